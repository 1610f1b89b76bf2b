//! A raw JSON-RPC session for the checks: frames as the server sent them, over stdio, WebSocket
//! or Streamable HTTP, with nothing between them and the check (no SDK that would drop a stray
//! line, retry, or hide a status).
//!
//! Every received frame is kept (bounded), with whether the handshake was done when it came:
//! the stdio and wire-schema checks read them. Requests the server sends are answered (`ping`
//! with `{}`, anything else with -32601), so a server that asks something does not wedge.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::SinkExt;
use futures::stream::{SplitSink, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

use super::target::Target;
use crate::config::TransportConfig;
use crate::transport::websocket::ClientSocket;
use crate::transport::{LineLimit, SessionResource, StdioConnector, TransportIo};
use crate::util::lock;

/// How many received frames a session keeps for the checks that read them.
const KEPT_FRAMES: usize = 4096;
/// How much of one frame is kept.
const KEPT_CHARS: usize = 4096;

/// Why a request got no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// No answer within the bound.
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    /// The connection ended.
    #[error("the connection closed: {0}")]
    Closed(String),
    /// The frame could not be sent.
    #[error("could not send: {0}")]
    Send(String),
    /// The connection could not be made.
    #[error("could not connect: {0}")]
    Connect(String),
}

/// What a received frame was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// A response (`result` or `error`) to one of our requests.
    Response,
    /// A request from the server.
    Request,
    /// A notification from the server.
    Notification,
    /// JSON that is not a JSON-RPC 2.0 message.
    NotJsonRpc,
    /// Not JSON at all (a stray stdout line, a log line).
    NotJson,
    /// A WebSocket binary frame.
    Binary,
}

/// One frame the server sent.
#[derive(Clone, Debug)]
pub struct Frame {
    /// What it was.
    pub kind: FrameKind,
    /// Its text, cut to 4096 characters.
    pub text: String,
    /// Whether the handshake was done when it came.
    pub after_handshake: bool,
}

/// What the HTTP answers of a session said, for the HTTP checks.
#[derive(Clone, Debug, Default)]
pub struct HttpSeen {
    /// The session id the server issued, if any.
    pub session_id: Option<String>,
    /// Content types of the answers to requests.
    pub content_types: Vec<String>,
    /// Statuses of answers other than 200 and 202.
    pub odd_statuses: Vec<u16>,
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>>;

struct Shared {
    pending: Pending,
    frames: Mutex<Vec<Frame>>,
    handshake_done: AtomicBool,
    closed: Mutex<Option<String>>,
    http: Mutex<HttpSeen>,
    /// The protocol version to stamp on requests (`_meta`), in the 2026 era.
    stamp: Mutex<Option<String>>,
    /// The method of each request sent, by id, for reading its answer.
    methods: Mutex<HashMap<String, String>>,
    /// Frames that are not the MCP message expected, with what is wrong (bounded).
    schema_problems: Mutex<Vec<String>>,
}

enum Link {
    Stdio {
        stdin: tokio::sync::Mutex<Option<Box<dyn AsyncWrite + Send + Unpin>>>,
        resource: Mutex<Option<Box<dyn SessionResource>>>,
    },
    WebSocket {
        sink: tokio::sync::Mutex<SplitSink<ClientSocket, Message>>,
        subprotocol: Option<String>,
    },
    Http {
        client: reqwest::Client,
        url: String,
        headers: reqwest::header::HeaderMap,
    },
}

/// A raw session with one server.
pub struct Wire {
    link: Link,
    shared: Arc<Shared>,
    next_id: AtomicU64,
    max_message_size: usize,
}

impl Wire {
    /// Connects to the target (spawns it, for stdio). No handshake yet.
    pub async fn open(target: &Target) -> Result<Arc<Self>, WireError> {
        let shared = Arc::new(Shared {
            pending: Arc::default(),
            frames: Mutex::default(),
            handshake_done: AtomicBool::new(false),
            closed: Mutex::default(),
            http: Mutex::default(),
            stamp: Mutex::default(),
            methods: Mutex::default(),
            schema_problems: Mutex::default(),
        });
        let max = target.config.mcp.max_message_size;
        let link = match &target.config.mcp.transport {
            TransportConfig::Stdio(stdio) => {
                let connection = StdioConnector::with_program_dirs(target.program_dirs.clone())
                    .spawn(&target.config.name, stdio)
                    .await
                    .map_err(|e| WireError::Connect(e.to_string()))?;
                let TransportIo::Bytes { read, write } = connection.io else {
                    return Err(WireError::Connect("not a byte stream".to_owned()));
                };
                let reader = shared.clone();
                tokio::spawn(async move {
                    let mut lines = BufReader::new(LineLimit::new(read, max)).lines();
                    let why = loop {
                        match lines.next_line().await {
                            Ok(Some(line)) => reader.received(&line, None),
                            Ok(None) => break "stdout ended".to_owned(),
                            Err(e) => break e.to_string(),
                        }
                    };
                    reader.close(why);
                });
                Link::Stdio {
                    stdin: tokio::sync::Mutex::new(Some(write)),
                    resource: Mutex::new(Some(connection.resource)),
                }
            }
            TransportConfig::WebSocket { url, headers } => {
                let (socket, subprotocol) =
                    crate::transport::websocket::open_raw(url, headers, max, true)
                        .await
                        .map_err(|e| {
                            WireError::Connect(target.redact(&format!(
                                "websocket {}: {e}",
                                crate::transport::public_url(url)
                            )))
                        })?;
                let (sink, mut stream) = socket.split();
                let reader = shared.clone();
                tokio::spawn(async move {
                    let why = loop {
                        match stream.next().await {
                            Some(Ok(Message::Text(text))) => reader.received(text.as_str(), None),
                            Some(Ok(Message::Binary(bytes))) => reader.keep(Frame {
                                kind: FrameKind::Binary,
                                text: format!("<binary frame of {} bytes>", bytes.len()),
                                after_handshake: reader.handshake_done.load(Ordering::Relaxed),
                            }),
                            Some(Ok(Message::Close(frame))) => {
                                break format!("close frame {frame:?}");
                            }
                            Some(Ok(_)) => {}
                            Some(Err(e)) => break e.to_string(),
                            None => break "the stream ended".to_owned(),
                        }
                    };
                    reader.close(why);
                });
                Link::WebSocket {
                    sink: tokio::sync::Mutex::new(sink),
                    subprotocol,
                }
            }
            TransportConfig::Http { url, headers } => {
                crate::transport::ensure_crypto_provider();
                let client = reqwest::Client::builder()
                    .connect_timeout(target.config.mcp.connect_timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .pool_max_idle_per_host(0)
                    .build()
                    .map_err(|e| WireError::Connect(e.to_string()))?;
                Link::Http {
                    client,
                    url: url.clone(),
                    headers: super::target::header_map(headers).map_err(WireError::Connect)?,
                }
            }
        };
        Ok(Arc::new(Self {
            link,
            shared,
            next_id: AtomicU64::new(1),
            max_message_size: max,
        }))
    }

    /// Sends a request and waits (at most `bound`) for its response frame, whole.
    pub async fn request(
        self: &Arc<Self>,
        method: &str,
        params: Value,
        bound: Duration,
    ) -> Result<Value, WireError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.request_with_id(json!(id), method, params, bound).await
    }

    /// [`Self::request`] with a chosen id.
    pub async fn request_with_id(
        self: &Arc<Self>,
        id: Value,
        method: &str,
        mut params: Value,
        bound: Duration,
    ) -> Result<Value, WireError> {
        if let Some(version) = lock(&self.shared.stamp).clone()
            && let Some(object) = params.as_object_mut()
        {
            // The 2026 era's per-request envelope (SEP-2575): version, client info, capabilities.
            let meta = object.entry("_meta").or_insert_with(|| json!({}));
            if let Some(meta) = meta.as_object_mut() {
                meta.insert(
                    "io.modelcontextprotocol/protocolVersion".to_owned(),
                    json!(version),
                );
                meta.insert(
                    "io.modelcontextprotocol/clientInfo".to_owned(),
                    json!({ "name": "cattackle-check", "version": env!("CARGO_PKG_VERSION") }),
                );
                meta.insert(
                    "io.modelcontextprotocol/clientCapabilities".to_owned(),
                    json!({}),
                );
            }
        }
        let (tx, rx) = oneshot::channel();
        let key = id.to_string();
        lock(&self.shared.pending).insert(key.clone(), tx);
        lock(&self.shared.methods).insert(key.clone(), method.to_owned());
        let frame = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        if let Err(e) = self.send(&frame.to_string()).await {
            lock(&self.shared.pending).remove(&key);
            return Err(e);
        }
        match tokio::time::timeout(bound, rx).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(_)) => Err(WireError::Closed(self.closed_reason())),
            Err(_) => {
                lock(&self.shared.pending).remove(&key);
                Err(WireError::TimedOut(bound))
            }
        }
    }

    /// Sends a notification.
    pub async fn notify(self: &Arc<Self>, method: &str, params: Value) -> Result<(), WireError> {
        let frame = json!({ "jsonrpc": "2.0", "method": method, "params": params });
        self.send(&frame.to_string()).await
    }

    /// Sends one frame as it is (which may be malformed on purpose).
    pub async fn send(self: &Arc<Self>, text: &str) -> Result<(), WireError> {
        match &self.link {
            Link::Stdio { stdin, .. } => {
                let mut stdin = stdin.lock().await;
                let Some(pipe) = stdin.as_mut() else {
                    return Err(WireError::Send("stdin is closed".to_owned()));
                };
                let mut line = text.as_bytes().to_vec();
                line.push(b'\n');
                let sent = async {
                    pipe.write_all(&line).await?;
                    pipe.flush().await
                };
                sent.await.map_err(|e| WireError::Send(e.to_string()))
            }
            Link::WebSocket { sink, .. } => sink
                .lock()
                .await
                .send(Message::text(text.to_owned()))
                .await
                .map_err(|e| WireError::Send(e.to_string())),
            Link::Http {
                client,
                url,
                headers,
            } => self.post(client, url, headers, text).await,
        }
    }

    async fn post(
        self: &Arc<Self>,
        client: &reqwest::Client,
        url: &str,
        headers: &reqwest::header::HeaderMap,
        text: &str,
    ) -> Result<(), WireError> {
        let mut request = client
            .post(url)
            .headers(headers.clone())
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(text.to_owned());
        let seen = lock(&self.shared.http).session_id.clone();
        if let Some(id) = seen {
            request = request.header("mcp-session-id", id);
        }
        if let Some(version) = self.protocol_header() {
            request = request.header("mcp-protocol-version", version);
        }
        let response = request
            .send()
            .await
            .map_err(|e| WireError::Send(without_url(e)))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        {
            let mut http = lock(&self.shared.http);
            if let Some(id) = response
                .headers()
                .get("mcp-session-id")
                .and_then(|v| v.to_str().ok())
                && http.session_id.is_none()
            {
                http.session_id = Some(id.to_owned());
            }
            if !matches!(status, 200 | 202) {
                http.odd_statuses.push(status);
            }
            if status == 200 {
                http.content_types.push(content_type.clone());
            }
        }
        let request_id = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("id").cloned());
        let shared = self.shared.clone();
        let max = self.max_message_size;
        // The body is read apart from the send, so that an SSE stream that stays open does not
        // hold the caller; answers are dispatched as they come.
        tokio::spawn(async move {
            if content_type.starts_with("text/event-stream") {
                let mut events = sse_stream::SseStream::from_bytes_stream(response.bytes_stream());
                while let Some(event) = events.next().await {
                    match event {
                        Ok(event) => {
                            if let Some(data) = event.data.filter(|d| !d.is_empty()) {
                                shared.received(&data, request_id.as_ref());
                            }
                        }
                        Err(_) => break,
                    }
                }
            } else {
                let body = read_capped(response, max).await;
                if !body.trim().is_empty() {
                    shared.received(&body, request_id.as_ref());
                } else if status >= 400
                    && let Some(id) = &request_id
                {
                    // An HTTP error with no JSON-RPC error: the request is answered by its
                    // status, as a synthetic error the checks can read.
                    shared.answer(
                        id,
                        json!({ "jsonrpc": "2.0", "id": id, "error": { "code": 0, "message": format!("HTTP {status}") } }),
                    );
                }
            }
        });
        Ok(())
    }

    fn protocol_header(&self) -> Option<String> {
        lock(&self.shared.stamp).clone()
    }

    /// From now on, requests carry `version` (`_meta` in the 2026 era; the HTTP header too).
    pub fn stamp_version(&self, version: &str) {
        *lock(&self.shared.stamp) = Some(version.to_owned());
    }

    /// Marks the handshake done: frames from now on are "after the handshake".
    pub fn handshake_done(&self) {
        self.shared.handshake_done.store(true, Ordering::Relaxed);
    }

    /// The frames received so far.
    pub fn frames(&self) -> Vec<Frame> {
        lock(&self.shared.frames).clone()
    }

    /// Frames that were not the MCP message expected, each with what is wrong.
    pub fn schema_problems(&self) -> Vec<String> {
        lock(&self.shared.schema_problems).clone()
    }

    /// What the HTTP answers said (empty for other transports).
    pub fn http_seen(&self) -> HttpSeen {
        lock(&self.shared.http).clone()
    }

    /// The subprotocol the WebSocket server answered with.
    pub fn subprotocol(&self) -> Option<String> {
        match &self.link {
            Link::WebSocket { subprotocol, .. } => subprotocol.clone(),
            _ => None,
        }
    }

    /// Why the connection closed, if it did.
    pub fn closed_reason(&self) -> String {
        lock(&self.shared.closed)
            .clone()
            .unwrap_or_else(|| "the connection closed".to_owned())
    }

    /// Whether the connection is still open (for stdio: the process runs too).
    pub fn is_open(&self) -> bool {
        if lock(&self.shared.closed).is_some() {
            return false;
        }
        match &self.link {
            Link::Stdio { resource, .. } => lock(resource).as_ref().is_some_and(|r| r.is_alive()),
            _ => true,
        }
    }

    /// The stdio child's stderr tail, if any.
    pub async fn stderr_tail(&self) -> Option<String> {
        let resource = match &self.link {
            Link::Stdio { resource, .. } => lock(resource).take(),
            _ => None,
        }?;
        let tail = resource.failure_context(Duration::from_millis(50)).await;
        if let Link::Stdio { resource: slot, .. } = &self.link {
            *lock(slot) = Some(resource);
        }
        tail
    }

    /// The stdio child's pid (its process group id), if any.
    pub fn pid(&self) -> Option<u32> {
        match &self.link {
            Link::Stdio { resource, .. } => lock(resource).as_ref().and_then(|r| r.pid()),
            _ => None,
        }
    }

    /// Ends the session as a client should: stdio closes stdin and waits up to `grace` for the
    /// process to exit, then reports what is left of its process group and kills it; HTTP
    /// sends `DELETE` for its session; WebSocket sends a close frame.
    pub async fn close(&self, grace: Duration) -> Closed {
        let mut closed = Closed::default();
        match &self.link {
            Link::Stdio { stdin, resource } => {
                drop(stdin.lock().await.take());
                let Some(resource) = lock(resource).take() else {
                    return closed;
                };
                let began = tokio::time::Instant::now();
                while resource.is_alive() && began.elapsed() < grace {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                if !resource.is_alive() {
                    closed.exited_after = Some(began.elapsed());
                }
                if let Some(pgid) = resource.pid() {
                    closed.left_behind = group_members(pgid)
                        .into_iter()
                        .filter(|p| *p != pgid)
                        .collect();
                }
                // Nothing the check started is left running.
                resource.shutdown(Duration::ZERO).await;
            }
            Link::WebSocket { sink, .. } => {
                let _ = sink.lock().await.close().await;
            }
            Link::Http {
                client,
                url,
                headers,
            } => {
                let id = lock(&self.shared.http).session_id.clone();
                if let Some(id) = id {
                    let deleted = client
                        .delete(url)
                        .headers(headers.clone())
                        .header("mcp-session-id", id)
                        .send()
                        .await;
                    closed.delete_status = deleted.ok().map(|r| r.status().as_u16());
                }
            }
        }
        closed
    }
}

/// What closing a session showed.
#[derive(Clone, Debug, Default)]
pub struct Closed {
    /// stdio: how long the process took to exit after stdin closed, if it did within the grace.
    pub exited_after: Option<Duration>,
    /// stdio: pids of its process group still alive once it exited (or the grace passed).
    pub left_behind: Vec<u32>,
    /// HTTP: the status of the `DELETE` of the session.
    pub delete_status: Option<u16>,
}

impl Drop for Wire {
    fn drop(&mut self) {
        // A session a check did not close (it timed out): kill its process group now.
        if let Link::Stdio { resource, .. } = &mut self.link {
            drop(crate::util::get_mut(resource).take());
        }
    }
}

impl Shared {
    /// A frame came: keep it, and hand a response to its waiter, or answer a server request.
    /// `request_id` is the id of the HTTP request whose body it is.
    fn received(self: &Arc<Self>, text: &str, request_id: Option<&Value>) {
        let after_handshake = self.handshake_done.load(Ordering::Relaxed);
        let parsed: Option<Value> = serde_json::from_str(text).ok();
        let messages: Vec<Value> = match parsed {
            None => {
                self.keep(Frame {
                    kind: FrameKind::NotJson,
                    text: crate::util::cut(text, KEPT_CHARS),
                    after_handshake,
                });
                return;
            }
            Some(Value::Array(batch)) => batch,
            Some(one) => vec![one],
        };
        for message in messages {
            let kind = classify(&message);
            self.keep(Frame {
                kind,
                text: crate::util::cut(&message.to_string(), KEPT_CHARS),
                after_handshake,
            });
            if matches!(
                kind,
                FrameKind::Response | FrameKind::Request | FrameKind::Notification
            ) {
                let key = message.get("id").map(Value::to_string);
                let method = key.and_then(|k| lock(&self.methods).get(&k).cloned());
                if let Some(problem) = super::schema::problem(method.as_deref(), &message) {
                    let mut problems = lock(&self.schema_problems);
                    if problems.len() < 16 {
                        problems.push(format!(
                            "{problem}: {}",
                            crate::util::cut(&message.to_string(), 600)
                        ));
                    }
                }
            }
            match kind {
                FrameKind::Response => {
                    if let Some(id) = message.get("id").cloned() {
                        self.answer(&id, message);
                    }
                }
                FrameKind::NotJsonRpc => {
                    // Over HTTP, the body answers its own request, whatever it is.
                    if let Some(id) = request_id {
                        self.answer(id, message);
                    }
                }
                _ => {}
            }
        }
    }

    fn answer(&self, id: &Value, message: Value) {
        if let Some(waiter) = lock(&self.pending).remove(&id.to_string()) {
            let _ = waiter.send(message);
        }
    }

    fn keep(&self, frame: Frame) {
        let mut frames = lock(&self.frames);
        if frames.len() < KEPT_FRAMES {
            frames.push(frame);
        }
    }

    fn close(&self, why: String) {
        lock(&self.closed).get_or_insert(why);
        // Waiters learn at once (their senders drop).
        lock(&self.pending).clear();
    }
}

/// What a JSON value is as a JSON-RPC 2.0 message.
fn classify(message: &Value) -> FrameKind {
    let Some(object) = message.as_object() else {
        return FrameKind::NotJsonRpc;
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return FrameKind::NotJsonRpc;
    }
    let has_id = object.contains_key("id");
    match (object.get("method").and_then(Value::as_str), has_id) {
        (Some(_), true) => FrameKind::Request,
        (Some(_), false) => FrameKind::Notification,
        (None, true) if object.contains_key("result") || object.contains_key("error") => {
            FrameKind::Response
        }
        _ => FrameKind::NotJsonRpc,
    }
}

/// The pids whose process group is `pgid` (Linux: from `/proc`).
fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    // After the command name in parentheses: state, ppid, pgrp.
                    let rest = stat.rsplit_once(')')?.1;
                    let mut fields = rest.split_whitespace();
                    let state = fields.next()?;
                    let pgrp = fields.nth(1)?.parse::<u32>().ok()?;
                    Some(pgrp == pgid && state != "Z")
                })
                .unwrap_or(false)
        })
        .collect()
}

async fn read_capped(response: reqwest::Response, max: usize) -> String {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        body.extend_from_slice(&chunk);
        if body.len() > max {
            body.truncate(max);
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// A reqwest error without its URL (whose query may hold a secret), with its cause.
fn without_url(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(e) = source {
        let part = e.to_string();
        if !text.contains(&part) {
            text = format!("{text}: {part}");
        }
        source = e.source();
    }
    text
}
