//! The scenario file format, as Rust types. `docs/scenario.schema.json` is generated from these.

/// A type read through `#[serde(try_from = "Spec")]` (to check that exactly one action is given)
/// has the schema of its spec: what the file holds.
macro_rules! schema_of_spec {
    ($type:ident, $spec:ident) => {
        impl JsonSchema for $type {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($type).into()
            }

            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                $spec::json_schema(generator)
            }
        }
    };
}
use schema_of_spec;

/// The one action of a `what` (a fault, a step, a reply) among `candidates`, each a key and its
/// value when the file gives it: `Ok(None)` when none is given, an error naming every key when
/// several are.
fn one_action<T>(
    what: &str,
    candidates: Vec<(&'static str, Option<T>)>,
) -> Result<Option<T>, String> {
    let mut given: Vec<(&str, T)> = candidates
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    if given.len() > 1 {
        let found: Vec<String> = given.iter().map(|(k, _)| format!("`{k}`")).collect();
        return Err(format!(
            "a {what} has exactly one action; found {}",
            found.join(" and ")
        ));
    }
    Ok(given.pop().map(|(_, v)| v))
}

/// [`one_action`], where none is an error too.
fn required_action<T>(what: &str, candidates: Vec<(&'static str, Option<T>)>) -> Result<T, String> {
    let keys: Vec<String> = candidates.iter().map(|(k, _)| format!("`{k}`")).collect();
    one_action(what, candidates)?
        .ok_or_else(|| format!("a {what} needs an action: one of {}", keys.join(", ")))
}

/// `Some(action)` for a flag set to `true`.
fn flag<T>(set: Option<bool>, action: T) -> Option<T> {
    set.filter(|b| *b).map(|_| action)
}

mod fault;
mod mock;
mod step;

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

pub use fault::{
    Crash, DropConnection, DropPhase, Fault, FaultAction, HttpStatus, Latency, Malformed, Matcher,
    Slicer, WsClose,
};
pub use mock::{Era, HttpBody, JsonRpcErrorSpec, MockSpec, Reply, Tool};
pub use step::{
    CallSpec, Expect, ExpectError, ExpectOk, Reload, ServerExpectation, Step, StepAction, find_step,
};

use super::Dur;

/// One scenario: which cattackle, which server (mock or real), which faults, which steps, and
/// what must come out.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What the scenario checks, in a sentence.
    pub name: String,
    /// Longer explanation.
    #[serde(default)]
    pub description: Option<String>,
    /// Free labels, for filtering.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The cattackle configuration the manager is given.
    pub cattackle: CattackleSpec,
    /// `mock` (default): a scripted server from `mock` and `faults`. `real`: the cattackle's own
    /// command or URL. `[mock, real]`: both, as separate trials (a recorded twin beside the real
    /// server it was recorded from).
    #[serde(default, deserialize_with = "server_kind")]
    #[schemars(with = "ServerSpec")]
    pub server: ServerKind,
    /// Transports to run a mock against, one run (and snapshot) each. Default `[stdio]`.
    /// Real servers use the transport of their configuration.
    #[serde(default)]
    pub transports: Vec<MockTransport>,
    /// `virtual` (default when everything is in-process) or `real` (required for processes and
    /// sockets).
    #[serde(default)]
    pub clock: Option<Clock>,
    /// Seed of every probabilistic fault and every jitter. Default 0; `--seed` overrides.
    #[serde(default)]
    pub seed: Option<u64>,
    /// A process to start before the steps (a real WebSocket or HTTP cattackle). `{port}` in its
    /// arguments and in the configuration is replaced by a free port.
    #[serde(default)]
    pub launch: Option<Launch>,
    /// The scripted server.
    #[serde(default)]
    pub mock: MockSpec,
    /// Faults the mock injects.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// What the manager is asked to do, in order.
    pub steps: Vec<Step>,
    /// What the server must have received, checked at the end.
    #[serde(default)]
    pub server_expect: Vec<ServerExpectation>,
    /// Files the trial needs (an interpreter with an SDK, a peer server): when one is missing,
    /// the trial is skipped, saying how to install it.
    #[serde(default)]
    pub requires: Vec<Requirement>,
}

/// A file a trial needs.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// The file, relative to the directory `cattackle test` runs in.
    pub path: std::path::PathBuf,
    /// The command that installs it.
    pub install: String,
}

/// Where the cattackle configuration comes from.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CattackleSpec {
    /// A `cattackle.toml` (or a directory holding one), relative to the scenario file.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// The `[cattackle]` table written inline, as YAML.
    #[serde(default)]
    pub inline: Option<Value>,
    /// Merged over the `[cattackle]` table, e.g. `{ mcp: { timeout: 0.5 } }`.
    #[serde(default)]
    pub overrides: Option<Value>,
}

/// Which server the manager talks to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServerKind {
    /// The scripted mock.
    #[default]
    Mock,
    /// The cattackle itself.
    Real,
    /// Both, as separate trials: `server: [mock, real]`.
    #[serde(skip)]
    Both,
}

impl ServerKind {
    /// Whether a trial runs against the cattackle itself.
    pub fn has_real(self) -> bool {
        matches!(self, Self::Real | Self::Both)
    }

    /// Whether a trial runs against the mock.
    pub fn has_mock(self) -> bool {
        matches!(self, Self::Mock | Self::Both)
    }
}

/// `server` as written: one kind, or a list of them.
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
#[allow(
    dead_code,
    reason = "the schema of `server`; read through `server_kind`"
)]
enum ServerSpec {
    /// `mock` or `real`.
    One(ServerKind),
    /// `[mock, real]`: a trial against each.
    Many(Vec<ServerKind>),
}

fn server_kind<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ServerKind, D::Error> {
    use serde::de::Error;
    let kinds = match ServerSpec::deserialize(d) {
        Ok(ServerSpec::One(kind)) => vec![kind],
        Ok(ServerSpec::Many(kinds)) => kinds,
        Err(_) => {
            return Err(D::Error::custom(
                "`server` is `mock`, `real`, or `[mock, real]`",
            ));
        }
    };
    let (mock, real) = (
        kinds.contains(&ServerKind::Mock),
        kinds.contains(&ServerKind::Real),
    );
    match (mock, real) {
        (true, true) => Ok(ServerKind::Both),
        (false, true) => Ok(ServerKind::Real),
        (true, false) => Ok(ServerKind::Mock),
        (false, false) => Err(D::Error::custom(
            "`server` names no server: use `mock`, `real`, or `[mock, real]`",
        )),
    }
}

/// A transport a mock is served over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MockTransport {
    /// In-process, over an in-memory pipe: virtual time works.
    Stdio,
    /// A real child process (`cattackle mock-server`) over real pipes.
    StdioProcess,
    /// A WebSocket server on 127.0.0.1.
    Websocket,
    /// A Streamable HTTP server on 127.0.0.1 (wiremock).
    Http,
}

impl MockTransport {
    /// The spelling in scenario files and trial names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stdio => "stdio",
            Self::StdioProcess => "stdio-process",
            Self::Websocket => "websocket",
            Self::Http => "http",
        }
    }

    /// Whether the mock runs in this process with no I/O (virtual time possible).
    pub fn in_process(self) -> bool {
        self == Self::Stdio
    }
}

/// The clock a scenario runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// A paused tokio clock that jumps to the next timer: exact and instant.
    Virtual,
    /// Wall-clock time.
    Real,
}

/// A process started before the steps and killed after them.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Launch {
    /// The program (bare names are looked up on PATH, then beside `cattackle`).
    pub command: String,
    /// Its arguments; `{port}` is replaced by a free port.
    #[serde(default)]
    pub args: Vec<String>,
    /// How long to wait for the port to accept connections. Default 10s.
    #[serde(default)]
    pub ready_timeout: Option<Dur>,
}
