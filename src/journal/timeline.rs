//! The run as a timeline, for the HTML report: marks with times on the scenario's clock (virtual
//! or real), recorded beside the transcript's entries. Steps, attempts, sessions, the breaker,
//! faults at the moment they fired, and the messages on the wire. Texts are redacted as the
//! transcript's are; marks never reach snapshots.

use serde::Serialize;

/// One mark.
#[derive(Clone, Debug, Serialize)]
pub struct Mark {
    /// Microseconds since the start of the run, on its clock.
    pub at_us: u64,
    /// What happened.
    #[serde(flatten)]
    pub what: MarkKind,
}

/// What a mark says.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MarkKind {
    /// A step started.
    Step {
        /// `steps[0].concurrent[1]`.
        step: String,
        /// `call echo "hi"`.
        action: String,
    },
    /// A step ended.
    StepEnd {
        /// The step.
        step: String,
        /// Its outcome, for a call.
        outcome: Option<String>,
        /// Whether its expectations held.
        ok: bool,
    },
    /// An attempt of a step's call started.
    Attempt {
        /// The step.
        step: String,
        /// From 1.
        attempt: u32,
    },
    /// An attempt failed.
    AttemptFailed {
        /// The step.
        step: String,
        /// From 1.
        attempt: u32,
        /// The error kind.
        error: String,
        /// The message (redacted).
        message: String,
        /// The backoff before the next attempt, if there is one.
        retry_in_us: Option<u64>,
    },
    /// A call was rejected before any attempt (breaker, bulkhead, budget).
    Rejected {
        /// The step.
        step: String,
        /// The error kind.
        error: String,
    },
    /// A session opened, was retired or closed.
    Session {
        /// Its number.
        session: u64,
        /// `opened`, `retired`, `closed`, `keep-alive`.
        event: String,
        /// Why, or its protocol.
        reason: String,
    },
    /// The breaker changed state.
    Breaker {
        /// From.
        from: String,
        /// To.
        to: String,
    },
    /// A fault fired.
    Fault {
        /// Which, and on what.
        text: String,
    },
    /// A message on the wire, as the server saw it.
    Wire {
        /// The server-side connection.
        conn: Option<u64>,
        /// `->` received by the server, `<-` sent by it.
        dir: &'static str,
        /// The message (ids renumbered, cut, redacted).
        text: String,
    },
}
