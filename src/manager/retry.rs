//! The retry loop: attempts, the backoff between them, and the error after the last one.

use std::sync::Arc;

use rmcp::model::{CallToolRequestParams, CallToolResult};

use super::core::Core;
use super::{Backoff, CattackleError, ManagerEvent};
use crate::config::CattackleConfig;

impl Core {
    /// Calls `tool` with `arguments` as the configuration's retry policy says; `call` is its
    /// number within the manager, which its events carry and its jitter is drawn from.
    pub(super) async fn call_with_retries(
        self: &Arc<Self>,
        config: &CattackleConfig,
        tool: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
        call: u64,
    ) -> Result<CallToolResult, CattackleError> {
        let name = config.name.as_str();
        let mcp = &config.mcp;
        let attempts = mcp.max_retries.saturating_add(1);
        let mut delays = Backoff::for_call(&mcp.backoff, call.saturating_sub(1));
        let mut reached = false;
        let mut attempt = 1;
        loop {
            let params =
                CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments.clone());
            self.report(|| ManagerEvent::AttemptStarted {
                cattackle: name.to_owned(),
                call,
                attempt,
            });
            let failed = |error: &CattackleError, retry_in| ManagerEvent::AttemptFailed {
                cattackle: name.to_owned(),
                call,
                attempt,
                kind: error.kind(),
                message: error.to_string(),
                retry_in,
            };
            let error = match self.attempt(config, params).await {
                Ok(response) => return Ok(response),
                Err(e) if !e.is_retryable() => {
                    self.report(|| failed(&e, None));
                    return Err(e);
                }
                Err(e) => e,
            };
            reached |= error.may_have_reached();
            if attempt >= attempts {
                self.report(|| failed(&error, None));
                // The caller gets the error; logging it here too would say it twice.
                tracing::debug!(
                    cattackle = name,
                    "attempt {attempt} of {attempts} failed ({}): {}; max attempts reached",
                    error.kind(),
                    error.summary()
                );
                return Err(CattackleError::Exhausted {
                    cattackle: name.to_owned(),
                    attempts,
                    timeout: mcp.timeout,
                    max_retries: mcp.max_retries,
                    reached,
                    last: Box::new(error),
                });
            }
            let delay = delays.next().unwrap_or_default();
            self.report(|| failed(&error, Some(delay)));
            tracing::warn!(
                cattackle = name,
                "attempt {attempt} of {attempts} failed ({}): {}; retrying in {delay:?}",
                error.kind(),
                error.summary()
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}
