//! The retry loop: attempts through the breaker, the backoff between them (clipped by the
//! call's deadline), and the error after the last one.

use std::sync::Arc;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use tokio::time::Instant;

use super::core::Core;
use super::metrics::Hot;
use super::{Backoff, CattackleError, ManagerEvent};
use crate::config::CattackleConfig;

impl Core {
    /// Calls `tool` with `arguments` as the configuration's retry policy says; `call` is its
    /// number within the manager, which its events carry and its jitter is drawn from; `end`
    /// is when its deadline passes; `hot` its cattackle's call-path metrics.
    pub(super) async fn call_with_retries(
        self: &Arc<Self>,
        config: &CattackleConfig,
        tool: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
        call: u64,
        end: Option<Instant>,
        hot: &Hot,
    ) -> Result<CallToolResult, CattackleError> {
        let name = config.name.as_str();
        let mcp = &config.mcp;
        let idempotent = config.commands.get(tool).is_none_or(|c| c.idempotent);
        let attempts = mcp.max_retries.saturating_add(1);
        let mut delays = Backoff::for_call(&mcp.backoff, call.saturating_sub(1));
        let mut reached = false;
        let mut attempt = 1;
        let mut last: Option<CattackleError> = None;
        self.deposit(config);
        loop {
            if let (Some(end), Some(deadline)) = (end, mcp.deadline)
                && Instant::now() >= end
            {
                return Err(CattackleError::DeadlineExceeded {
                    cattackle: name.to_owned(),
                    deadline,
                    attempts: attempt - 1,
                    last: last.map(Box::new),
                });
            }
            let ticket = match self.admit(config, call) {
                Ok(ticket) => ticket,
                Err(rejected) => return Err(rejected),
            };
            let params =
                CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments.clone());
            self.report_attempt(|| ManagerEvent::AttemptStarted {
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
            hot.attempt_started(attempt);
            let began = Instant::now();
            let result = self.attempt(config, params, end).await;
            let timed_out = matches!(&result, Err(e) if e.kind() == super::ErrorKind::TimedOut);
            hot.attempt_ended(began.elapsed(), timed_out);
            self.record(config, ticket, &result);
            let error = match result {
                Ok(response) => return Ok(response),
                Err(e) if !e.is_retryable() => {
                    self.report_attempt(|| failed(&e, None));
                    return Err(e);
                }
                Err(e) if !idempotent && outcome_unknown(&e) => {
                    self.report_attempt(|| failed(&e, None));
                    return Err(CattackleError::OutcomeUnknown {
                        cattackle: name.to_owned(),
                        command: tool.to_owned(),
                        last: Box::new(e),
                    });
                }
                Err(e) => e,
            };
            reached |= error.may_have_reached();
            if attempt >= attempts {
                self.report_attempt(|| failed(&error, None));
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
                    fallback: if reached { None } else { mcp.fallback.clone() },
                });
            }
            let mut delay = delays.next().unwrap_or_default();
            // The server's `Retry-After`, up to `max_retry_after`, when longer than the backoff.
            let asked = error
                .retry_after_hint()
                .map(|d| d.min(mcp.max_retry_after))
                .filter(|d| *d > delay);
            if let Some(asked) = asked {
                delay = asked;
            }
            if let Some(end) = end {
                let left = end.saturating_duration_since(Instant::now());
                if let (Some(asked), Some(deadline)) = (asked, mcp.deadline)
                    && asked > left
                {
                    // The server asked us to come back after the deadline: waiting for it
                    // would only end in the same error, later.
                    self.report_attempt(|| failed(&error, None));
                    return Err(CattackleError::DeadlineExceeded {
                        cattackle: name.to_owned(),
                        deadline,
                        attempts: attempt,
                        last: Some(Box::new(error)),
                    });
                }
                delay = delay.min(left);
            }
            if let Some(rejected) = self.blocked_after(config, call, delay) {
                // The failure opened the breaker: no retry can go through it.
                self.report_attempt(|| failed(&error, None));
                return Err(rejected);
            }
            let error = match self.withdraw(config, call, error) {
                Ok(error) => error,
                Err(empty) => {
                    if let CattackleError::Unavailable { last: Some(l), .. } = &empty {
                        self.report_attempt(|| failed(l, None));
                    }
                    return Err(empty);
                }
            };
            self.report_attempt(|| failed(&error, Some(delay)));
            tracing::warn!(
                cattackle = name,
                "attempt {attempt} of {attempts} failed ({}): {}; retrying in {delay:?}",
                error.kind(),
                error.summary()
            );
            last = Some(error);
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

/// Whether a failed attempt may have run the tool: its request was sent, and then it timed out,
/// the connection was lost, or an HTTP 5xx other than 503 came back. (A JSON-RPC error is an
/// answer, and 429 or 503 a refusal: the outcome is known.)
fn outcome_unknown(error: &CattackleError) -> bool {
    match error {
        CattackleError::TimedOut {
            phase: super::Phase::Call,
            ..
        }
        | CattackleError::TransportClosed { .. } => true,
        CattackleError::HttpStatus { .. } => error.may_have_reached(),
        _ => false,
    }
}
