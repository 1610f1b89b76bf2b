//! One attempt of a call: a session, one `tools/call` bounded by `timeout`, and what its
//! failure means for the session.
//!
//! A timed-out attempt cancels its own request (`notifications/cancelled` with its id, handed to
//! the transport before the attempt returns) and retires the session; calls in flight beside it
//! go on.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResult, CancelledNotificationParam,
    ClientRequest, RequestId, ServerResult,
};
use rmcp::service::{PeerRequestOptions, ServiceError};
use tokio::time::{Instant, timeout_at};

use super::core::Core;
use super::error::{describe_service, quote, redacted};
use super::lease::Lease;
use super::session::Retirement;
use super::{CattackleError, Phase};
use crate::config::CattackleConfig;
use crate::transport::{http_refusal, is_session_expired};
use crate::util::deadline_after;

/// How long a timed-out attempt waits for its cancellation to be handed to the transport. The
/// notification is queued at once; the wait only keeps it ahead of the session's close on a
/// pipe. It must stay short: a hung HTTP server never acknowledges the notification's POST, and
/// the retry waits for this (a bound of 1 s made every retry against a stopped server 1 s late).
const CANCEL_BOUND: Duration = Duration::from_millis(50);

impl Core {
    /// One attempt: a healthy session, then one bounded `tools/call`. `end` (the call's
    /// `deadline`) clips both: the wait for a session, and the attempt's own timeout.
    pub(super) async fn attempt(
        self: &Arc<Self>,
        config: &CattackleConfig,
        params: CallToolRequestParams,
        end: Option<Instant>,
    ) -> Result<CallToolResult, CattackleError> {
        let begun = Instant::now();
        let lease = match end {
            None => self.lease(config).await?,
            Some(end) => match timeout_at(end, self.lease(config)).await {
                Ok(lease) => lease?,
                Err(_) => {
                    return Err(CattackleError::TimedOut {
                        cattackle: config.name.clone(),
                        phase: Phase::Connect,
                        after: end.saturating_duration_since(begun),
                        context: None,
                    });
                }
            },
        };
        let own = deadline_after(config.mcp.timeout);
        let (deadline, bound) = match end {
            Some(end) if end < own => (end, end.saturating_duration_since(Instant::now())),
            _ => (own, config.mcp.timeout),
        };
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        let peer = lease.session.peer();
        let sent = timeout_at(
            deadline,
            peer.send_cancellable_request(request, PeerRequestOptions::no_options()),
        )
        .await;
        let handle = match sent {
            Err(_) => return Err(self.timed_out(config, &lease, None, bound).await),
            Ok(Err(e)) => return Err(self.failed(config, &lease, e)),
            Ok(Ok(handle)) => handle,
        };
        let id = handle.id.clone();
        match timeout_at(deadline, handle.await_response()).await {
            Ok(Ok(result)) => call_result(&config.name, result, &config.mcp.transport),
            Ok(Err(e)) => Err(self.failed(config, &lease, e)),
            Err(_) => Err(self.timed_out(config, &lease, Some(id), bound).await),
        }
    }

    /// The attempt timed out after `after` (its timeout, or less when the deadline clipped it):
    /// cancel its request, retire the session (the server is busy with it; calls in flight
    /// beside it go on).
    async fn timed_out(
        &self,
        config: &CattackleConfig,
        lease: &Lease,
        id: Option<RequestId>,
        after: Duration,
    ) -> CattackleError {
        if let Some(id) = id {
            let reason = format!("timed out after {}s", super::error::python_secs(after));
            let cancel = lease
                .session
                .peer()
                .notify_cancelled(CancelledNotificationParam::new(Some(id), Some(reason)));
            if tokio::time::timeout(CANCEL_BOUND, cancel).await.is_err() {
                tracing::debug!(cattackle = %config.name, "the cancellation could not be sent within {CANCEL_BOUND:?}");
            }
        }
        let retirement = Retirement::new("call timed out", config.mcp.shutdown_grace).busy(true);
        self.retire_leased(lease, retirement);
        CattackleError::TimedOut {
            cattackle: config.name.clone(),
            phase: Phase::Call,
            after,
            context: None,
        }
    }

    /// The call failed: a typed error, and the session retired when the contract asks for a
    /// fresh one (JSON-RPC errors, a dead or expired transport).
    pub(super) fn failed(
        &self,
        config: &CattackleConfig,
        lease: &Lease,
        error: ServiceError,
    ) -> CattackleError {
        let name = config.name.as_str();
        let grace = config.mcp.shutdown_grace;
        let (error, reason) = match error {
            ServiceError::McpError(data) => (
                CattackleError::JsonRpc {
                    cattackle: name.to_owned(),
                    code: data.code.0,
                    message: data.message.into_owned(),
                },
                Some("JSON-RPC error"),
            ),
            // An answer of the wrong shape says nothing about the session.
            ServiceError::UnexpectedResponse => (
                CattackleError::InvalidResponse {
                    cattackle: name.to_owned(),
                    detail: "the result of `tools/call` is not a CallToolResult".to_owned(),
                },
                None,
            ),
            ServiceError::Timeout { timeout } => (
                CattackleError::TimedOut {
                    cattackle: name.to_owned(),
                    phase: Phase::Call,
                    after: timeout,
                    context: None,
                },
                Some("call timed out"),
            ),
            ServiceError::TransportSend(e) if is_session_expired(&*e.error) => {
                self.sessions_expired.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    cattackle = name,
                    session = lease.session.id,
                    "the server no longer knows the session (HTTP 404): it restarted or expired it; reopening"
                );
                (
                    CattackleError::TransportClosed {
                        cattackle: name.to_owned(),
                        detail: "session expired (HTTP 404): the server restarted or dropped it"
                            .to_owned(),
                    },
                    Some("session expired"),
                )
            }
            ServiceError::TransportSend(e) if let Some(refusal) = http_refusal(&*e.error) => (
                CattackleError::HttpStatus {
                    cattackle: name.to_owned(),
                    status: refusal.status,
                    retry_after: refusal.retry_after,
                },
                // A rate limit is about this client's pace, not the session's health: the retry
                // keeps the session (a new one would cost the limited server a handshake).
                (refusal.status != 429).then_some("HTTP 5xx"),
            ),
            other => {
                let mut detail = redacted(
                    &describe_service(&other),
                    &config.mcp.transport.secret_values(),
                );
                if let Some(reason) = lease.session.close_reason() {
                    detail = format!("{detail} ({reason})");
                }
                (
                    CattackleError::TransportClosed {
                        cattackle: name.to_owned(),
                        detail,
                    },
                    Some("transport closed"),
                )
            }
        };
        if let Some(reason) = reason {
            self.retire_leased(lease, Retirement::new(reason, grace));
        }
        error
    }
}

/// The `tools/call` result, or a typed error quoting what came instead.
fn call_result(
    cattackle: &str,
    result: ServerResult,
    transport: &crate::config::TransportConfig,
) -> Result<CallToolResult, CattackleError> {
    match result {
        ServerResult::CallToolResult(result) => Ok(result),
        // `{}`: no content at all (the contract's "empty response").
        ServerResult::EmptyResult(_) => Ok(CallToolResult::default()),
        other => {
            let text = serde_json::to_string(&other).unwrap_or_default();
            Err(CattackleError::InvalidResponse {
                cattackle: cattackle.to_owned(),
                detail: format!(
                    "the result of `tools/call` is not a CallToolResult: {}",
                    quote(&text, &transport.secret_values())
                ),
            })
        }
    }
}
