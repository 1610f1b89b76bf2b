//! The built-in checks, one file per area. Each check opens its own sessions, so that checks
//! run at once and one wedged server fails one check, not the run.

use super::model::{Finding, Verdict};

/// A fresh session with its handshake, or return the reason as the check's one finding.
macro_rules! start_or {
    ($ctx:expr) => {
        match $ctx.start().await {
            Ok(started) => started,
            Err(verdict) => return super::one(verdict),
        }
    };
}

pub(crate) mod contract;
pub(crate) mod http;
pub(crate) mod lifecycle;
pub(crate) mod robust;
pub(crate) mod stdio;
pub(crate) mod tools;
pub(crate) mod websocket;
pub(crate) mod wire_schema;

/// One finding about the server as a whole.
pub(crate) fn one(verdict: Verdict) -> Vec<Finding> {
    vec![Finding::from(verdict)]
}
