//! What a check gets: the target, the options, and a handshake on a fresh session.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::model::Verdict;
use super::target::Target;
use super::wire::{Wire, WireError};

/// How much of a stdio child's stderr a finding quotes: its last lines.
const STDERR_CHARS: usize = 600;

/// The protocol versions this runner knows, newest first.
pub const KNOWN_VERSIONS: &[&str] = &[
    "2026-07-28",
    "2025-11-25",
    "2025-06-18",
    "2025-03-26",
    "2024-11-05",
];

/// Which handshake the checks do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Era {
    /// `initialize` offering this version.
    Initialize(&'static str),
    /// `server/discover` (2026-07-28), stateless.
    Discover,
    /// `initialize` offering 2025-11-25, as the manager does by default; the 2026 checks run
    /// when the server speaks it, and are skipped when it does not.
    Auto,
}

impl Era {
    /// From `--era`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "auto" => Some(Self::Auto),
            "2026-07-28" => Some(Self::Discover),
            "2025-11-25" => Some(Self::Initialize("2025-11-25")),
            "2025-06-18" => Some(Self::Initialize("2025-06-18")),
            _ => None,
        }
    }

    /// The version offered in `initialize`.
    pub fn offered(self) -> &'static str {
        match self {
            Self::Initialize(v) => v,
            Self::Discover => "2026-07-28",
            Self::Auto => "2025-11-25",
        }
    }
}

/// Options of a run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Bound on each request of a check.
    pub request_timeout: Duration,
    /// Bound on a whole check.
    pub check_timeout: Duration,
    /// The handshake.
    pub era: Era,
    /// Checks run at once (each on its own sessions).
    pub jobs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            check_timeout: Duration::from_secs(60),
            era: Era::Auto,
            jobs: 4,
        }
    }
}

/// What one check works with.
#[derive(Clone)]
pub struct Ctx {
    /// The target.
    pub target: Arc<Target>,
    /// The options.
    pub options: Arc<Options>,
}

/// A session that has done its handshake.
pub struct Started {
    /// The session.
    pub wire: Arc<Wire>,
    /// The `result` of `initialize` (or of `server/discover`).
    pub result: Value,
    /// The response frame, whole.
    pub frame: Value,
}

impl Ctx {
    /// The bound on one request.
    pub fn bound(&self) -> Duration {
        self.options.request_timeout
    }

    /// A fresh session, connected but without a handshake.
    pub async fn connect(&self) -> Result<Arc<Wire>, Verdict> {
        Wire::open(&self.target).await.map_err(|e| {
            Verdict::violated("the server could not be started or reached", e.to_string())
        })
    }

    /// A fresh session with its handshake done (by the run's era).
    pub async fn start(&self) -> Result<Started, Verdict> {
        let wire = self.connect().await?;
        self.handshake(wire).await
    }

    /// The handshake on `wire`: `initialize` + `notifications/initialized`, or `server/discover`.
    pub async fn handshake(&self, wire: Arc<Wire>) -> Result<Started, Verdict> {
        let frame = match self.options.era {
            Era::Discover => {
                wire.stamp_version("2026-07-28");
                wire.request("server/discover", json!({}), self.bound())
                    .await
            }
            era => {
                wire.request("initialize", initialize_params(era.offered()), self.bound())
                    .await
            }
        };
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => return Err(self.no_answer(&wire, "the handshake", e).await),
        };
        let Some(result) = frame.get("result").cloned() else {
            return Err(Verdict::violated(
                "the handshake was answered with an error",
                self.shown(&frame),
            ));
        };
        if self.options.era != Era::Discover {
            let _ = wire.notify("notifications/initialized", json!({})).await;
        }
        wire.handshake_done();
        Ok(Started {
            wire,
            result,
            frame,
        })
    }

    /// A verdict for a request that got no answer, with the stderr tail when there is one.
    pub async fn no_answer(&self, wire: &Wire, what: &str, error: WireError) -> Verdict {
        let mut evidence = vec![error.to_string()];
        evidence.extend(self.stderr_evidence(wire).await);
        Verdict::Violated {
            message: format!("no answer to {what}: {error}"),
            evidence,
        }
    }

    /// The stdio child's stderr as evidence: redacted, and cut to its end, where a traceback
    /// names its cause.
    pub async fn stderr_evidence(&self, wire: &Wire) -> Option<String> {
        let tail = wire.stderr_tail().await?;
        Some(format!(
            "stderr: {}",
            crate::util::cut_keeping_end(&self.target.redact_whole(&tail), STDERR_CHARS)
        ))
    }

    /// A frame as evidence: compact JSON, cut, secrets redacted.
    pub fn shown(&self, frame: &Value) -> String {
        self.target.redact(&frame.to_string())
    }

    /// Whether the session still answers a `ping` (`server/discover` in the 2026 era, which
    /// has no ping): the "session survives" part of several checks.
    pub async fn survives(&self, wire: &Arc<Wire>) -> Result<(), Verdict> {
        let (method, params) = match self.options.era {
            Era::Discover => ("server/discover", json!({})),
            _ => ("ping", json!({})),
        };
        match wire.request(method, params, self.bound()).await {
            Ok(frame) if frame.get("result").is_some() => Ok(()),
            Ok(frame) => Err(Verdict::violated(
                format!(
                    "the session did not survive: `{method}` afterwards was answered with an error"
                ),
                self.shown(&frame),
            )),
            Err(e) => Err(self
                .no_answer(
                    wire,
                    &format!("`{method}` afterwards (the session did not survive)"),
                    e,
                )
                .await),
        }
    }

    /// The contract payload for a command: `text`, `accumulated_params`, `extra.username`.
    pub fn payload(&self, text: &str) -> Value {
        json!({ "text": text, "accumulated_params": [], "extra": { "username": "cattackle-check" } })
    }

    /// Sends `tools/call` for `tool` with `arguments` on `wire`.
    pub async fn call(
        &self,
        wire: &Arc<Wire>,
        tool: &str,
        arguments: Value,
    ) -> Result<Value, WireError> {
        wire.request(
            "tools/call",
            json!({ "name": tool, "arguments": arguments }),
            self.bound(),
        )
        .await
    }

    /// The commands the cattackle declares (empty for a plain server).
    pub fn commands(&self) -> Vec<String> {
        self.target.config.commands.keys().cloned().collect()
    }

    /// `shutdown_grace` of the configuration.
    pub fn grace(&self) -> Duration {
        self.target.config.mcp.shutdown_grace
    }
}

/// `initialize` params offering `version`.
pub fn initialize_params(version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": {},
        "clientInfo": { "name": "cattackle-check", "version": env!("CARGO_PKG_VERSION") },
    })
}

/// The `result` of a response frame, or a violation quoting it.
pub fn result_of<'a>(ctx: &Ctx, frame: &'a Value, what: &str) -> Result<&'a Value, Verdict> {
    frame.get("result").ok_or_else(|| {
        Verdict::violated(
            format!("{what} was answered with an error"),
            ctx.shown(frame),
        )
    })
}
