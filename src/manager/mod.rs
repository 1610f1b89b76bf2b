//! The MCP client manager: one live session per cattackle, `tools/call` with per-attempt
//! timeouts, retries with backoff, health checks and clean shutdown.

mod attempt;
mod backoff;
mod breaker;
mod bulkhead;
mod core;
mod error;
mod event;
mod guard;
mod imp;
mod keepalive;
mod lease;
mod metrics;
mod open;
mod options;
mod payload;
mod response;
mod retry;
mod session;
mod slot;
mod tools;

pub use backoff::Backoff;
pub use breaker::BreakerState;
#[cfg(feature = "harness")]
pub(crate) use error::redacted;
#[cfg(feature = "harness")]
pub(crate) use error::shown as shown_redacted;
pub use error::{CattackleError, ErrorKind, Phase, Unavailability};
pub use event::{ManagerEvent, Observer};
pub use imp::McpClientManager;
pub use metrics::{CattackleMetrics, MetricsSnapshot};
pub use options::CallOptions;
pub use payload::{DEFAULT_USERNAME, Payload, PayloadError};
pub use response::{CattackleResponse, EMPTY_RESPONSE, parse_call_result};
