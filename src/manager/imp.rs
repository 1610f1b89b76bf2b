//! [`McpClientManager`]: the public face of the manager, and the state its parts share.
//!
//! The parts, each in its own file, none importing this one: [`super::core`] (the state they
//! share), [`super::slot`] (each cattackle's session or opening), [`super::lease`] (sessions:
//! one opening for all callers, retire and drain), [`super::retry`] (the retry loop),
//! [`super::attempt`] (one bounded attempt and its error mapping), [`super::open`] (connect and
//! handshake).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rmcp::model::CallToolResult;
use tokio_util::task::TaskTracker;

use super::breaker::BreakerState;
use super::core::Core;
use super::metrics::MetricsSnapshot;
use super::slot::Slots;
use super::{CallOptions, CattackleError, CattackleResponse, Observer, Payload};
use crate::config::CattackleConfig;
use crate::transport::{Connector, DefaultConnector};

/// Keeps one live MCP session per cattackle and calls its commands as `tools/call`.
///
/// Concurrent calls share the session (JSON-RPC multiplexing); concurrent callers that find no
/// session share one opening. One call's failure never disturbs another: a failed session is
/// retired, and closes when its last call ends. Every phase is bounded: start by
/// `connect_timeout`, each attempt by `timeout`, health probes by `timeout`, close by
/// `shutdown_grace`. Waits use `tokio::time`, so a paused clock makes schedules exact.
pub struct McpClientManager {
    core: Arc<Core>,
}

impl Default for McpClientManager {
    fn default() -> Self {
        Self::new()
    }
}

impl McpClientManager {
    /// A manager that reaches cattackles through their configured transports.
    pub fn new() -> Self {
        Self::with_connector(DefaultConnector::default())
    }

    /// A manager that reaches cattackles through `connector` (in-memory, mocked, …).
    pub fn with_connector(connector: impl Connector) -> Self {
        Self::build(Arc::new(connector), None)
    }

    fn build(connector: Arc<dyn Connector>, observer: Option<Observer>) -> Self {
        Self {
            core: Arc::new(Core {
                connector,
                slots: Slots::default(),
                closing: TaskTracker::new(),
                next_session: AtomicU64::new(0),
                next_call: AtomicU64::new(0),
                sessions_expired: AtomicU64::new(0),
                observer,
                breakers: Default::default(),
                bulkheads: Default::default(),
                budgets: Default::default(),
                metrics: Default::default(),
                generation: AtomicU64::new(0),
                guarded: Default::default(),
            }),
        }
    }

    /// Reports every attempt, failure, and session opened, retired or closed to `observer`.
    /// Call it before the first call.
    pub fn with_observer(self, observer: Observer) -> Self {
        Self::build(self.core.connector.clone(), Some(observer))
    }

    /// How many sessions this manager has opened so far.
    pub fn sessions_opened(&self) -> u64 {
        self.core.next_session.load(Ordering::Relaxed)
    }

    /// How many times a server reported that it no longer knew a session (an HTTP server
    /// restart): each is logged, reopened, and costs the call that saw it one attempt.
    pub fn sessions_expired(&self) -> u64 {
        self.core.sessions_expired.load(Ordering::Relaxed)
    }

    /// Every cattackle's metrics so far, as numbers.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.core
            .metrics
            .snapshot(|name| self.core.breaker_state(name))
    }

    /// Every cattackle's metrics so far, as OpenMetrics text (Prometheus' exposition format):
    /// `cattackle_calls_total{cattackle="echo",outcome="ok"} 3`, …
    pub fn metrics_text(&self) -> String {
        self.core.metrics.encode()
    }

    /// Where the cattackle's circuit breaker stands; `None` when it has none (no
    /// `[cattackle.mcp.breaker]`) or no call has gone through it yet.
    pub fn breaker_state(&self, name: &str) -> Option<BreakerState> {
        self.core.breaker_state(name)
    }

    /// The protocol version negotiated by the cattackle's current session.
    pub async fn session_protocol(&self, name: &str) -> Option<String> {
        self.core.current(name)?.protocol_version()
    }

    /// The process id behind the cattackle's current session, if it has one.
    pub async fn session_pid(&self, name: &str) -> Option<u32> {
        self.core.current(name)?.pid()
    }

    /// Reserves the number of a call to come, to pass in [`CallOptions::call`]: the events of
    /// that call carry it. Numbers count from 1, in the order they are taken; a call without one
    /// takes the next. Each call's backoff jitter is drawn from its number.
    pub fn reserve_call(&self) -> u64 {
        self.core.next_call.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Calls `command` of the cattackle with `payload` (plus `extra.username`), retrying as its
    /// configuration says, and parses the answer by the `{"data", "error"}` contract.
    pub async fn call(
        &self,
        config: &CattackleConfig,
        command: &str,
        payload: Payload,
    ) -> Result<CattackleResponse, CattackleError> {
        self.call_with(config, command, payload, CallOptions::default())
            .await
    }

    /// [`Self::call`], with `options`.
    pub async fn call_with(
        &self,
        config: &CattackleConfig,
        command: &str,
        payload: Payload,
        options: CallOptions,
    ) -> Result<CattackleResponse, CattackleError> {
        if !config.commands.contains_key(command) {
            return Err(CattackleError::UnknownCommand {
                cattackle: config.name.clone(),
                command: command.to_owned(),
                known: config.commands.keys().cloned().collect(),
            });
        }
        let result = self
            .call_raw_with(config, command, payload.arguments(), options)
            .await?;
        let secrets = || config.mcp.transport.secret_values();
        super::response::parse_redacted(&config.name, &result, &secrets)
    }

    /// Calls any tool with exactly `arguments` (no `extra.username`, no check against the declared
    /// commands), with the same sessions, limits, timeouts and retries as [`Self::call`], and
    /// returns the MCP result as it came: for servers that do not follow the cattackle contract.
    pub async fn call_raw(
        &self,
        config: &CattackleConfig,
        tool: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
    ) -> Result<CallToolResult, CattackleError> {
        self.call_raw_with(config, tool, arguments, CallOptions::default())
            .await
    }

    /// [`Self::call_raw`], with `options`.
    pub async fn call_raw_with(
        &self,
        config: &CattackleConfig,
        tool: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
        options: CallOptions,
    ) -> Result<CallToolResult, CattackleError> {
        let name = config.name.as_str();
        if let Some(limit) = config.settings.max_payload_size {
            let size = serde_json::to_vec(&arguments).map_or(u64::MAX, |v| v.len() as u64);
            if size > limit {
                return Err(CattackleError::PayloadTooLarge {
                    cattackle: name.to_owned(),
                    size,
                    limit,
                });
            }
        }
        if config.settings.enable_logging {
            let shown = serde_json::Value::Object(arguments.clone());
            tracing::debug!(cattackle = name, tool, payload = %shown, "calling");
        } else {
            tracing::debug!(cattackle = name, tool, "calling");
        }
        let call = options.call.unwrap_or_else(|| self.reserve_call());
        let end = config
            .mcp
            .deadline
            .map(|d| crate::util::saturating_add(tokio::time::Instant::now(), d));
        let started = tokio::time::Instant::now();
        let hot = self.core.metrics.hot(name);
        self.core.metrics.call_started(&hot);
        let result = match self.core.enter(config, call, end).await {
            Ok(_place) => {
                self.core
                    .call_with_retries(config, tool, arguments, call, end, &hot)
                    .await
            }
            Err(rejected) => Err(rejected),
        };
        let kind = result.as_ref().err().map(CattackleError::kind);
        self.core
            .metrics
            .call_ended(&hot, name, kind, started.elapsed());
        result
    }

    /// The tools the cattackle lists (`tools/list`, every page), on its session: one request
    /// bounded by `timeout`, not retried and not counted as a call. Their annotations (such as
    /// `idempotentHint`) are the server's hints; retries follow `commands.<cmd>.idempotent`.
    pub async fn list_tools(
        &self,
        config: &CattackleConfig,
    ) -> Result<Vec<rmcp::model::Tool>, CattackleError> {
        self.core.list_tools(config).await
    }

    /// Closes the cattackle's session, if any, and waits for it to end: at once when it is idle,
    /// else when the calls in flight on it have ended (each bounded by its timeout); then the
    /// process gets `grace`. Unknown names are a no-op.
    pub async fn close_session(&self, name: &str, grace: Duration) {
        self.core.close_named(name, grace).await;
    }

    /// Closes every session and waits for them, and for sessions already closing in the
    /// background, to end. Nothing is left running afterwards.
    pub async fn close_all_sessions(&self, grace: Duration) {
        self.core.close_every(grace).await;
    }
}
