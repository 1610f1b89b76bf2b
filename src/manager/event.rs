//! What a manager reports as it works: attempts, failures, sessions. Harnesses record these;
//! metrics can count them.

use std::sync::Arc;
use std::time::Duration;

use super::{BreakerState, ErrorKind};

/// One thing a [`McpClientManager`](super::McpClientManager) did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManagerEvent {
    /// An attempt of a call starts (1-based).
    AttemptStarted {
        /// The cattackle's name.
        cattackle: String,
        /// The call's number within the manager, from 1: every event of one call carries it.
        call: u64,
        /// 1 for the first attempt.
        attempt: u32,
    },
    /// An attempt failed; `retry_in` is the backoff before the next one, `None` if none follows.
    AttemptFailed {
        /// The cattackle's name.
        cattackle: String,
        /// The call's number within the manager, from 1.
        call: u64,
        /// 1 for the first attempt.
        attempt: u32,
        /// Why, as a stable name.
        kind: ErrorKind,
        /// Why, in words.
        message: String,
        /// The backoff before the next attempt.
        retry_in: Option<Duration>,
    },
    /// A call was rejected before an attempt: the cattackle is unavailable (its breaker is open,
    /// its bulkhead full). Nothing was sent.
    CallRejected {
        /// The cattackle's name.
        cattackle: String,
        /// The call's number within the manager, from 1.
        call: u64,
        /// Why: `circuit_open`, `bulkhead_full`.
        kind: ErrorKind,
        /// When to try again, if known.
        retry_after: Option<Duration>,
    },
    /// A cattackle's circuit breaker changed state.
    BreakerChanged {
        /// The cattackle's name.
        cattackle: String,
        /// The state it left.
        from: BreakerState,
        /// The state it entered.
        to: BreakerState,
        /// Why: `consecutive failures`, `failure rate`, `break over: one probe goes through`,
        /// `probe succeeded`, `probe failed`.
        reason: &'static str,
        /// Entering `open`: how long until the next probe.
        retry_in: Option<Duration>,
    },
    /// A keep-alive probe of an idle session ended (`keepalive_interval`).
    KeepAlive {
        /// The cattackle's name.
        cattackle: String,
        /// Sequence number within the manager, from 1.
        session: u64,
        /// Whether the session answered in time.
        ok: bool,
    },
    /// A session was opened (spawned or connected, handshake done).
    SessionOpened {
        /// The cattackle's name.
        cattackle: String,
        /// Sequence number within the manager, from 1.
        session: u64,
        /// The negotiated protocol version.
        protocol: Option<String>,
    },
    /// A session was retired after a failure while other calls were in flight on it: no new
    /// call starts on it, those calls finish there, and it closes when the last one ends.
    SessionRetired {
        /// The cattackle's name.
        cattackle: String,
        /// Sequence number within the manager, from 1.
        session: u64,
        /// Why: `call timed out`, `transport closed`, `JSON-RPC error`, `session expired`,
        /// `health check failed`, `no longer alive`, `transport changed`.
        reason: &'static str,
        /// How many other calls were in flight on it.
        in_flight: usize,
    },
    /// A session is being closed (in the background when a call retires it).
    SessionClosed {
        /// The cattackle's name.
        cattackle: String,
        /// Sequence number within the manager, from 1.
        session: u64,
        /// Why: a retirement's reason (see [`ManagerEvent::SessionRetired`]), `drained: its last
        /// call ended` (it was retired with calls in flight), `superseded`, `closed on request`,
        /// `closing all sessions`.
        reason: &'static str,
    },
    /// A closing session had dropped requests of the server's own past the bound (see
    /// [`crate::transport::server_requests`]): reported once, with the count, before its
    /// [`ManagerEvent::SessionClosed`].
    ServerRequestsDropped {
        /// The cattackle's name.
        cattackle: String,
        /// Sequence number within the manager, from 1.
        session: u64,
        /// How many were dropped.
        dropped: u64,
    },
}

/// Receives a manager's events. Called inline: it must be quick and must not block.
pub type Observer = Arc<dyn Fn(&ManagerEvent) + Send + Sync>;
