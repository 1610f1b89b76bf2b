//! [`McpClientManager`]: sessions, attempts, retries.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::ServiceError;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_util::task::TaskTracker;

use super::error::{describe_init, describe_service};
use super::session::{Client, Session, handshake};
use super::{
    Backoff, CattackleError, CattackleResponse, ManagerEvent, Observer, Payload, Phase,
    parse_call_result,
};
use crate::config::{CattackleConfig, HealthCheck, Protocol};
use crate::transport::{
    Connection, Connector, DefaultConnector, SessionResource, is_session_expired,
};

/// The slot of one cattackle: its current session, behind an async lock held while a session is
/// being opened, so that concurrent first calls open exactly one.
type Slot = Arc<tokio::sync::Mutex<Option<Arc<Session>>>>;

/// Keeps one live MCP session per cattackle and calls its commands as `tools/call`.
///
/// Concurrent calls share the session (JSON-RPC multiplexing). Every phase is bounded: start by
/// `connect_timeout`, each attempt by `timeout`, health probes by `timeout`, close by
/// `shutdown_grace`. Waits use `tokio::time`, so a paused clock makes schedules exact.
pub struct McpClientManager {
    connector: Arc<dyn Connector>,
    slots: Mutex<HashMap<String, Slot>>,
    closing: TaskTracker,
    next_session: AtomicU64,
    sessions_expired: AtomicU64,
    observer: Option<Observer>,
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
        Self {
            connector: Arc::new(connector),
            slots: Mutex::new(HashMap::new()),
            closing: TaskTracker::new(),
            next_session: AtomicU64::new(0),
            sessions_expired: AtomicU64::new(0),
            observer: None,
        }
    }

    /// Reports every attempt, failure, and session opened or closed to `observer`.
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    fn report(&self, event: impl FnOnce() -> ManagerEvent) {
        if let Some(observer) = &self.observer {
            observer(&event());
        }
    }

    /// How many sessions this manager has opened so far.
    pub fn sessions_opened(&self) -> u64 {
        self.next_session.load(Ordering::Relaxed)
    }

    /// How many times a server reported that it no longer knew a session (an HTTP server
    /// restart): each is logged, reopened, and costs the call that saw it one attempt.
    pub fn sessions_expired(&self) -> u64 {
        self.sessions_expired.load(Ordering::Relaxed)
    }

    /// The protocol version negotiated by the cattackle's current session.
    pub async fn session_protocol(&self, name: &str) -> Option<String> {
        self.current_session(name).await?.protocol_version()
    }

    /// The process id behind the cattackle's current session, if it has one.
    pub async fn session_pid(&self, name: &str) -> Option<u32> {
        self.current_session(name).await?.pid()
    }

    async fn current_session(&self, name: &str) -> Option<Arc<Session>> {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()?;
        slot.lock().await.clone()
    }

    /// Calls `command` of the cattackle with `payload` (plus `extra.username`), retrying as its
    /// configuration says, and parses the answer by the `{"data", "error"}` contract.
    pub async fn call(
        &self,
        config: &CattackleConfig,
        command: &str,
        payload: Payload,
    ) -> Result<CattackleResponse, CattackleError> {
        if !config.commands.contains_key(command) {
            return Err(CattackleError::UnknownCommand {
                cattackle: config.name.clone(),
                command: command.to_owned(),
                known: config.commands.keys().cloned().collect(),
            });
        }
        let result = self.call_raw(config, command, payload.arguments()).await?;
        parse_call_result(&config.name, &result)
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
        let mcp = &config.mcp;
        let attempts = mcp.max_retries + 1;
        let mut delays = Backoff::new(&mcp.backoff);
        let mut reached = false;
        let mut attempt = 1;
        loop {
            let params =
                CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments.clone());
            self.report(|| ManagerEvent::AttemptStarted {
                cattackle: name.to_owned(),
                attempt,
            });
            let failed = |error: &CattackleError, retry_in| ManagerEvent::AttemptFailed {
                cattackle: name.to_owned(),
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
            if attempt == attempts {
                self.report(|| failed(&error, None));
                tracing::warn!(
                    cattackle = name,
                    "attempt {attempt} of {attempts} failed ({}): {error}; max attempts reached",
                    error.kind()
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
                "attempt {attempt} of {attempts} failed ({}): {error}; retrying in {delay:?}",
                error.kind()
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// One attempt: get a healthy session, then one bounded `tools/call`.
    async fn attempt(
        &self,
        config: &CattackleConfig,
        params: CallToolRequestParams,
    ) -> Result<CallToolResult, CattackleError> {
        let name = config.name.as_str();
        let session = self.session(config).await?;
        let outcome = timeout(config.mcp.timeout, session.peer().call_tool(params)).await;
        let service_error = match outcome {
            Ok(Ok(result)) => return Ok(result),
            Ok(Err(e)) => e,
            Err(_) => {
                self.discard(config, &session, "call timed out").await;
                return Err(CattackleError::TimedOut {
                    cattackle: name.to_owned(),
                    phase: Phase::Call,
                    after: config.mcp.timeout,
                    context: None,
                });
            }
        };
        let error = match service_error {
            ServiceError::McpError(data) => CattackleError::JsonRpc {
                cattackle: name.to_owned(),
                code: data.code.0,
                message: data.message.into_owned(),
            },
            ServiceError::UnexpectedResponse => CattackleError::InvalidResponse {
                cattackle: name.to_owned(),
                detail: "the result of `tools/call` is not a CallToolResult".to_owned(),
            },
            ServiceError::Timeout { timeout } => CattackleError::TimedOut {
                cattackle: name.to_owned(),
                phase: Phase::Call,
                after: timeout,
                context: None,
            },
            ServiceError::TransportSend(e) if is_session_expired(&*e.error) => {
                self.sessions_expired.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    cattackle = name,
                    session = session.id,
                    "the server no longer knows the session (HTTP 404): it restarted or expired it; reopening"
                );
                CattackleError::TransportClosed {
                    cattackle: name.to_owned(),
                    detail: "session expired (HTTP 404): the server restarted or dropped it"
                        .to_owned(),
                }
            }
            other => {
                let mut detail = describe_service(&other);
                if let Some(reason) = session.close_reason() {
                    detail = format!("{detail} ({reason})");
                }
                CattackleError::TransportClosed {
                    cattackle: name.to_owned(),
                    detail,
                }
            }
        };
        match error {
            CattackleError::TimedOut { .. } => {
                self.discard(config, &session, "call timed out").await;
            }
            CattackleError::TransportClosed { .. } => {
                self.discard(config, &session, "transport closed").await;
            }
            _ => {}
        }
        Err(error)
    }

    fn slot(&self, name: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = slots.get(name) {
            return slot.clone();
        }
        slots.entry(name.to_owned()).or_default().clone()
    }

    /// The cattackle's session: the cached one if it is for this transport and healthy, else a
    /// new one. Health checks do not count as attempts.
    async fn session(&self, config: &CattackleConfig) -> Result<Arc<Session>, CattackleError> {
        let fingerprint = config.mcp.transport.fingerprint();
        let slot = self.slot(&config.name);
        let mut probed = false;
        loop {
            let mut current = slot.lock().await;
            if let Some(session) = current.take() {
                let usable = session.fingerprint == fingerprint && session.is_alive();
                if usable && probed {
                    // Someone replaced the session we found unhealthy: take theirs.
                    *current = Some(session.clone());
                    return Ok(session);
                }
                if usable && config.mcp.health_check == HealthCheck::Liveness {
                    // Liveness was just checked: no round trip, no second look.
                    *current = Some(session.clone());
                    return Ok(session);
                }
                if usable {
                    *current = Some(session.clone());
                    drop(current);
                    let check = config.mcp.health_check;
                    if session.is_healthy(check, config.mcp.timeout).await {
                        return Ok(session);
                    }
                    tracing::info!(cattackle = %config.name, session = session.id, "health check failed: reopening");
                    self.discard(config, &session, "health check failed").await;
                    probed = true;
                    continue;
                }
                let why = if session.fingerprint == fingerprint {
                    "no longer alive"
                } else {
                    "transport changed"
                };
                tracing::info!(cattackle = %config.name, session = session.id, "session {why}: reopening");
                self.close_in_background(&config.name, session, config.mcp.shutdown_grace, why);
            }
            let session = Arc::new(self.open(config, fingerprint).await?);
            *current = Some(session.clone());
            return Ok(session);
        }
    }

    /// Spawns or connects, then does the MCP handshake, all within `connect_timeout`. With
    /// `protocol = "auto"`, a server that never answers `server/discover` gets half of that time,
    /// then a fresh connection and `initialize`.
    async fn open(
        &self,
        config: &CattackleConfig,
        fingerprint: u64,
    ) -> Result<Session, CattackleError> {
        let start = Instant::now();
        let deadline = start + config.mcp.connect_timeout;
        let started = match config.mcp.protocol {
            Protocol::Auto => {
                let probe_deadline = start + config.mcp.connect_timeout / 2;
                match self.start(config, Protocol::Auto, probe_deadline).await {
                    Err(CattackleError::TimedOut { .. }) => {
                        tracing::info!(cattackle = %config.name, "no answer to server/discover: falling back to initialize");
                        self.start(config, Protocol::V2025_11_25, deadline).await
                    }
                    other => other,
                }
            }
            protocol => self.start(config, protocol, deadline).await,
        };
        let (client, resource) = started?;
        let id = self.next_session.fetch_add(1, Ordering::Relaxed) + 1;
        let session = Session::new(id, fingerprint, client, resource).await;
        self.report(|| ManagerEvent::SessionOpened {
            cattackle: config.name.clone(),
            session: id,
            protocol: session.protocol_version(),
        });
        tracing::debug!(
            cattackle = %config.name,
            session = id,
            pid = ?session.pid(),
            protocol = ?session.protocol_version(),
            "session opened"
        );
        Ok(session)
    }

    /// One connection and handshake, bounded by `deadline`.
    async fn start(
        &self,
        config: &CattackleConfig,
        protocol: Protocol,
        deadline: Instant,
    ) -> Result<(Client, Box<dyn SessionResource>), CattackleError> {
        let name = config.name.as_str();
        let timed_out = |context| CattackleError::TimedOut {
            cattackle: name.to_owned(),
            phase: Phase::Connect,
            after: config.mcp.connect_timeout,
            context,
        };
        let Connection { io, resource } =
            match timeout_at(deadline, self.connector.connect(config)).await {
                Err(_) => return Err(timed_out(None)),
                Ok(Err(e)) => {
                    return Err(CattackleError::NotSent {
                        cattackle: name.to_owned(),
                        reason: e.to_string(),
                        context: None,
                    });
                }
                Ok(Ok(connection)) => connection,
            };
        let error = match timeout_at(
            deadline,
            handshake(io, protocol, config.mcp.max_message_size),
        )
        .await
        {
            Ok(Ok(client)) => return Ok((client, resource)),
            Ok(Err(e)) => {
                let context = resource.failure_context(Duration::from_millis(300)).await;
                CattackleError::NotSent {
                    cattackle: name.to_owned(),
                    reason: format!("MCP handshake failed: {}", describe_init(&e)),
                    context,
                }
            }
            Err(_) => timed_out(resource.failure_context(Duration::ZERO).await),
        };
        self.closing
            .spawn(resource.shutdown(config.mcp.shutdown_grace));
        Err(error)
    }

    /// Drops `session` from its slot if it is still the current one, and closes it in the
    /// background: a retry never waits for an old process to exit.
    async fn discard(
        &self,
        config: &CattackleConfig,
        session: &Arc<Session>,
        reason: &'static str,
    ) {
        let slot = self.slot(&config.name);
        let mut current = slot.lock().await;
        if current.as_ref().is_some_and(|s| Arc::ptr_eq(s, session)) {
            let session = current.take().expect("checked above");
            drop(current);
            self.close_in_background(&config.name, session, config.mcp.shutdown_grace, reason);
        }
    }

    fn close_in_background(
        &self,
        cattackle: &str,
        session: Arc<Session>,
        grace: Duration,
        reason: &'static str,
    ) {
        self.report_closed(cattackle, &session, reason);
        self.closing
            .spawn(async move { session.shutdown(grace).await });
    }

    fn report_closed(&self, cattackle: &str, session: &Session, reason: &'static str) {
        self.report(|| ManagerEvent::SessionClosed {
            cattackle: cattackle.to_owned(),
            session: session.id,
            reason,
        });
    }

    /// Closes the cattackle's session, if any, and waits for it to end (bounded by its
    /// `shutdown_grace`). Unknown names are a no-op.
    pub async fn close_session(&self, name: &str, grace: Duration) {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name);
        let Some(slot) = slot else { return };
        let session = slot.lock().await.take();
        if let Some(session) = session {
            tracing::debug!(cattackle = name, session = session.id, "closing session");
            self.report_closed(name, &session, "closed on request");
            session.shutdown(grace).await;
        }
    }

    /// Closes every session and waits for them, and for sessions already closing in the
    /// background, to end. Nothing is left running afterwards.
    pub async fn close_all_sessions(&self, grace: Duration) {
        let slots: Vec<(String, Slot)> = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .collect();
        for (name, slot) in slots {
            if let Some(session) = slot.lock().await.take() {
                self.close_in_background(&name, session, grace, "closing all sessions");
            }
        }
        self.closing.close();
        self.closing.wait().await;
        self.closing.reopen();
    }
}
