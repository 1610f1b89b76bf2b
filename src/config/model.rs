//! The typed form of a `cattackle.toml`, with the defaults of every key.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::time::Duration;

use super::SecretMap;

/// One cattackle: what it is, which commands it serves, and how to reach it.
#[derive(Clone, Debug, PartialEq)]
pub struct CattackleConfig {
    /// The session-cache key. Required.
    pub name: String,
    /// Required; must be a string (`version = 1` is rejected, as in the original).
    pub version: String,
    /// Required.
    pub description: String,
    /// Command name (the MCP tool name) → its description. Required, may be empty.
    pub commands: BTreeMap<String, CommandConfig>,
    /// `[cattackle.mcp]`.
    pub mcp: McpConfig,
    /// `[cattackle.settings]`.
    pub settings: Settings,
    /// The file this configuration was read from, when it came from a file.
    pub source: Option<PathBuf>,
}

/// `[cattackle.commands.<name>]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandConfig {
    /// Required.
    pub description: String,
    /// Whether the command may run twice: `false` marks one whose outcome is unknown once its
    /// request was sent (a timeout, a connection lost mid-call), and such failures are then not
    /// retried. Default `true`, as the original retried everything. MCP's `idempotentHint` is
    /// never trusted for this.
    pub idempotent: bool,
}

impl CommandConfig {
    /// A command with this description, idempotent.
    pub fn new(description: impl Into<String>) -> Self {
        Self {
            description: description.into(),
            idempotent: true,
        }
    }
}

/// `[cattackle.mcp]`: transport, timeouts, retries and session policy.
#[derive(Clone, Debug, PartialEq)]
pub struct McpConfig {
    /// Per-attempt bound on `tools/call`. Default 30 s.
    pub timeout: Duration,
    /// Retries after the first attempt (attempts = `max_retries + 1`). Default 3.
    pub max_retries: u32,
    /// Required.
    pub transport: TransportConfig,
    /// Bound on spawn/connect plus the MCP handshake. Default 10 s.
    pub connect_timeout: Duration,
    /// Delay between attempts. Default 1 s, 2 s, 4 s, … (the original's schedule).
    pub backoff: BackoffConfig,
    /// How a cached session is checked before reuse. Default [`HealthCheck::Liveness`].
    pub health_check: HealthCheck,
    /// How long a closing session may take before its process group is killed. Default 2 s.
    pub shutdown_grace: Duration,
    /// Largest incoming message, in bytes: a stdio line, a WebSocket message, an HTTP body or
    /// SSE event. Default 16 MiB.
    pub max_message_size: usize,
    /// Which MCP spec era to speak. Default [`Protocol::V2025_11_25`].
    pub protocol: Protocol,
    /// One bound over the whole call, attempts and backoff included. Default none (each attempt
    /// bounded by `timeout` alone, as in the original).
    pub deadline: Option<Duration>,
    /// Longest wait an HTTP `Retry-After` (on 429 and 5xx answers) may impose before a retry:
    /// it replaces the computed backoff when longer, up to this. Default 30 s.
    pub max_retry_after: Duration,
    /// `[cattackle.mcp.breaker]`: off unless the table is present.
    pub breaker: Option<BreakerConfig>,
    /// `[cattackle.mcp.retry_budget]`: off unless the table is present.
    pub retry_budget: Option<RetryBudgetConfig>,
    /// Calls in flight at once to this cattackle. Default unlimited.
    pub max_in_flight: Option<u32>,
    /// Calls waiting for a place when `max_in_flight` are in flight; more are rejected at once.
    /// Default 0 (with `max_in_flight` set, a call beyond it is rejected at once).
    pub max_pending: u32,
    /// Probe an idle session this often (±10 %, drawn from the seed). Default off.
    pub keepalive_interval: Option<Duration>,
    /// Missed keep-alive probes in a row after which the session is closed. Default 2.
    pub keepalive_failures: u32,
    /// Close a session nobody has used for this long. Default off.
    pub idle_timeout: Option<Duration>,
    /// What follows a session closed by keep-alive: [`Reconnect::Lazy`] (default: the next call
    /// opens one) or [`Reconnect::Eager`] (reopen at once, with gRPC's backoff on failures).
    pub reconnect: Reconnect,
    /// Text a chat core can show its user when the cattackle is unavailable (breaker open,
    /// bulkhead full). Default none.
    pub fallback: Option<String>,
}

/// `[cattackle.mcp.breaker]`: a circuit breaker per cattackle (Closed → Open → HalfOpen), after
/// resilience4j and Polly, with defaults for a cattackle that sees a few calls a minute.
#[derive(Clone, Debug, PartialEq)]
pub struct BreakerConfig {
    /// Opens after this many failed attempts in a row. Default 5.
    pub consecutive_failures: u32,
    /// Or when this share of the last `window` attempts failed (0 < rate ≤ 1). Default 0.5.
    pub failure_rate: f64,
    /// How many of the latest attempts the rate is taken over. Default 10.
    pub window: u32,
    /// The rate counts only once the window holds at least this many attempts. Default 5.
    pub min_calls: u32,
    /// How long it stays open the first time. Default 30 s.
    pub base: Duration,
    /// Each opening in a row (a failed probe) stays open this many times longer. Default 2.
    pub factor: f64,
    /// The longest it stays open. Default 5 min.
    pub max: Duration,
}

/// `reconnect`: when a session closed by keep-alive is replaced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reconnect {
    /// The next call opens a new session.
    #[default]
    Lazy,
    /// A new session is opened at once; failed openings back off as gRPC does (1 s × 1.6,
    /// ±20 %, at most 120 s), reset by a successful handshake.
    Eager,
}

/// `[cattackle.mcp.retry_budget]`: how many retries the cattackle's calls may make together,
/// after tower's `TpsBudget` (itself after Finagle): each call deposits `percent` of a retry,
/// each retry withdraws one, deposits expire after `ttl`, and `min_per_sec` retries a second
/// are always allowed. A retry storm against a cattackle that is down for everyone stops there.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryBudgetConfig {
    /// How long a call's deposit counts (1 to 60 s). Default 10 s.
    pub ttl: Duration,
    /// Retries a second allowed whatever the calls. Default 10 (tower's default; use a
    /// small number for a cattackle that sees a few calls a minute).
    pub min_per_sec: u32,
    /// Retries each call adds to the budget (0 to 1000). Default 0.2.
    pub percent: f32,
}

impl Default for RetryBudgetConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(10),
            min_per_sec: 10,
            percent: 0.2,
        }
    }
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            failure_rate: 0.5,
            window: 10,
            min_calls: 5,
            base: Duration::from_secs(30),
            factor: 2.0,
            max: Duration::from_secs(300),
        }
    }
}

impl McpConfig {
    /// Default per-attempt timeout.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default retry count.
    pub const DEFAULT_MAX_RETRIES: u32 = 3;
    /// Default connect (spawn + handshake) timeout.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default shutdown grace period.
    pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
    /// Default message size limit (16 MiB).
    pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

    /// The defaults of every optional key, around a transport.
    pub fn new(transport: TransportConfig) -> Self {
        Self {
            timeout: Self::DEFAULT_TIMEOUT,
            max_retries: Self::DEFAULT_MAX_RETRIES,
            transport,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            backoff: BackoffConfig::default(),
            health_check: HealthCheck::default(),
            shutdown_grace: Self::DEFAULT_SHUTDOWN_GRACE,
            max_message_size: Self::DEFAULT_MAX_MESSAGE_SIZE,
            protocol: Protocol::default(),
            deadline: None,
            max_retry_after: Duration::from_secs(30),
            breaker: None,
            retry_budget: None,
            max_in_flight: None,
            max_pending: 0,
            fallback: None,
            keepalive_interval: None,
            keepalive_failures: 2,
            idle_timeout: None,
            reconnect: Reconnect::Lazy,
        }
    }
}

/// `[cattackle.mcp.transport]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TransportConfig {
    /// `type = "stdio"`: a child process speaking newline-delimited JSON-RPC.
    Stdio(StdioTransport),
    /// `type = "websocket"`: one JSON-RPC message per text frame.
    WebSocket {
        /// Required.
        url: String,
        /// Sent on the upgrade request. Values are secrets.
        headers: SecretMap,
    },
    /// `type = "http"`: MCP Streamable HTTP.
    Http {
        /// Required.
        url: String,
        /// Sent on every request. Values are secrets.
        headers: SecretMap,
    },
}

/// The three transport types of `cattackle.toml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// `stdio`
    Stdio,
    /// `websocket`
    WebSocket,
    /// `http`
    Http,
}

impl TransportKind {
    /// The spelling used in `cattackle.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stdio => "stdio",
            Self::WebSocket => "websocket",
            Self::Http => "http",
        }
    }
}

impl TransportConfig {
    /// Which of the three transports this is.
    pub fn kind(&self) -> TransportKind {
        match self {
            Self::Stdio(_) => TransportKind::Stdio,
            Self::WebSocket { .. } => TransportKind::WebSocket,
            Self::Http { .. } => TransportKind::Http,
        }
    }

    /// Every secret value of the transport: env values, header values, and the userinfo and
    /// query values of the URL. Redaction replaces each wherever it appears.
    pub fn secret_values(&self) -> Vec<String> {
        match self {
            Self::Stdio(stdio) => stdio.env.values().cloned().collect(),
            Self::WebSocket { url, headers } | Self::Http { url, headers } => {
                headers.values().cloned().chain(url_secrets(url)).collect()
            }
        }
    }

    /// A stable digest of everything that decides where a session goes: a reloaded
    /// configuration whose transport changed gets a new session.
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut hasher);
        hasher.finish()
    }
}

/// The user, password and query values of `url`, as written in it.
pub(crate) fn url_secrets(url: &str) -> Vec<String> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Vec::new();
    };
    let mut secrets = vec![parsed.username().to_owned()];
    secrets.extend(parsed.password().map(str::to_owned));
    if let Some(query) = parsed.query() {
        secrets.extend(
            query
                .split('&')
                .filter_map(|pair| pair.split_once('=').map(|(_, v)| v.to_owned())),
        );
        secrets.extend(parsed.query_pairs().map(|(_, v)| v.into_owned()));
    }
    secrets.retain(|s| !s.is_empty());
    secrets
}

/// `type = "stdio"` keys. No shell is involved: `command` is executed directly, found on the
/// parent's `PATH` (never on a `PATH` set in `env`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct StdioTransport {
    /// Required: the program to run.
    pub command: String,
    /// Default empty.
    pub args: Vec<String>,
    /// Added to the inherited environment (overrides win). Values are secrets. Variables that
    /// inject code into the child ([`INJECTION_VARIABLES`]) are refused at load unless
    /// `allow_env` names them.
    pub env: SecretMap,
    /// Working directory of the child; default the caller's.
    pub cwd: Option<PathBuf>,
    /// Which of the parent's variables the child gets (`inherit_env`); default all of them, as
    /// the original core does. The manager's own logging variable (`RUST_LOG`) is never
    /// passed on unless `env` sets it.
    pub inherit_env: InheritEnv,
    /// Injection variables that `env` may set all the same (`allow_env`).
    pub allow_env: Vec<String>,
}

/// `inherit_env`: `true` (the default), `false`, or the names to pass on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum InheritEnv {
    /// Every variable of the parent (`true`).
    #[default]
    All,
    /// Only these (`false` is the empty list).
    Only(Vec<String>),
}

/// Variables that make a program load or run code it was not asked to: refused in `env`
/// unless `allow_env` names them.
pub const INJECTION_VARIABLES: &[&str] = &[
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "DYLD_INSERT_LIBRARIES",
    "DYLD_LIBRARY_PATH",
    "DYLD_FRAMEWORK_PATH",
    "GCONV_PATH",
    "NODE_OPTIONS",
    "PYTHONSTARTUP",
    "PYTHONINSPECT",
    "BASH_ENV",
    "ENV",
    "PERL5OPT",
    "RUBYOPT",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
];

/// `[cattackle.mcp.backoff]`: the delay after failed attempt `n` is
/// `min(base * factor^(n-1), max)`, then jittered.
#[derive(Clone, Debug, PartialEq)]
pub struct BackoffConfig {
    /// Default 1 s.
    pub base: Duration,
    /// Default 2.0.
    pub factor: f64,
    /// Default 30 s.
    pub max: Duration,
    /// Default [`Jitter::None`].
    pub jitter: Jitter,
    /// Seed for the jitter; default a random one.
    pub seed: Option<u64>,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            factor: 2.0,
            max: Duration::from_secs(30),
            jitter: Jitter::None,
            seed: None,
        }
    }
}

/// How a backoff delay is randomised.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Jitter {
    /// The exact delay.
    #[default]
    None,
    /// Uniform in `[0, delay]`.
    Full,
    /// `delay / 2` plus uniform in `[0, delay / 2]`.
    Equal,
}

/// The MCP spec era a session speaks (`[cattackle.mcp] protocol`).
///
/// The default is `2025-11-25` through `initialize`: every peer, old or new, answers it (older
/// servers negotiate down to their version), and it costs one round trip with no probing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// Probe with `server/discover` (2026-07-28); fall back to `initialize` when the server is
    /// legacy or does not answer the probe (bounded by `connect_timeout`).
    Auto,
    /// `initialize`, offering 2025-11-25.
    #[default]
    V2025_11_25,
    /// `initialize`, offering 2025-06-18.
    V2025_06_18,
    /// `server/discover` only (stateless, no `initialize`, no `ping`).
    V2026_07_28,
}

impl Protocol {
    /// The spelling used in `cattackle.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::V2025_11_25 => "2025-11-25",
            Self::V2025_06_18 => "2025-06-18",
            Self::V2026_07_28 => "2026-07-28",
        }
    }
}

/// How a cached session is checked before it is reused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HealthCheck {
    /// The process is running / the connection is open. No round trip.
    #[default]
    Liveness,
    /// An MCP `ping` round trip.
    Ping,
    /// A `tools/list` round trip, as the original did before every call.
    ToolsList,
}

/// `[cattackle.settings]`, enforced by this manager (the original only documented them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Upper bound, in bytes, of the serialized `tools/call` arguments. Default: no limit.
    pub max_payload_size: Option<u64>,
    /// Log payload contents (at debug). Default false: payloads are never logged.
    pub enable_logging: bool,
}
