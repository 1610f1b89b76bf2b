//! The HTTP relay: a proxy on 127.0.0.1 in front of a Streamable HTTP server (a real one, or
//! the wiremock mock). Each POST's JSON-RPC goes through the [`Tap`]; the answer to a request
//! a fault fired on (a JSON body, or the matching event of an SSE stream) is replaced by the
//! fault's plan, which may also answer with a status, or cut the connection before or in the
//! middle of the body. An MCP session (`Mcp-Session-Id`) is one connection of the transcript.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use http_body_util::{BodyExt, Full, Limited, channel::Channel, combinators::BoxBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::tap::{Faults, Tap};
use super::websocket::Upstream;
use crate::journal::{Journal, What};
use crate::mock::{Book, Flavor, Out, Setting};
use crate::scenario::model::Fault;
use crate::util::lock;

const SESSION_HEADER: &str = "mcp-session-id";

/// How long connections get to end on their own when the relay stops.
const DRAIN: Duration = Duration::from_secs(1);

/// Headers that belong to one hop, never passed on.
const HOP: &[&str] = &[
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "upgrade",
    "proxy-connection",
];

type Body = BoxBody<Bytes, std::io::Error>;

/// Why a request was answered by cutting the connection.
#[derive(Debug)]
struct Cut;

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the relay cut the connection (fault)")
    }
}

impl std::error::Error for Cut {}

/// A running HTTP relay.
pub struct HttpRelay {
    port: u16,
    task: tokio::task::JoinHandle<()>,
    stop: CancellationToken,
    state: Arc<State>,
}

struct State {
    upstream: String,
    pid: Arc<std::sync::atomic::AtomicU32>,
    client: reqwest::Client,
    journal: Arc<Journal>,
    faults: Arc<Faults>,
    limit: usize,
    next_conn: AtomicU64,
    /// Session id → its connection's tap.
    sessions: Mutex<HashMap<String, Arc<Tap>>>,
    /// Set by a fault that "kills the process": new connections are refused until restarted.
    down: Arc<AtomicBool>,
    /// Cut every connection in flight (a crash, a restart, the end of the trial).
    cut_all: Mutex<CancellationToken>,
}

impl HttpRelay {
    /// Listens on a free port of 127.0.0.1 and relays to `upstream` (its URL's scheme and
    /// authority; request paths are the client's; headers are the client's too) with `faults`
    /// drawn with `seed`, recording to `journal`. A `crash` kills `upstream.pid`'s process
    /// group; without one (a mock behind the relay) the relay itself goes down.
    pub async fn start(
        upstream: Upstream,
        faults: Vec<Fault>,
        seed: u64,
        journal: Arc<Journal>,
    ) -> std::io::Result<Self> {
        let max_message_size = upstream.max_message_size;
        crate::transport::ensure_crypto_provider();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        // No idle pooling, as the manager's own HTTP client: on a kept-alive connection, a
        // server that writes an answer in two pieces without TCP_NODELAY (rmcp's, over SSE)
        // waits ~40 ms for the relay's delayed ACK each time (the relay bench: 23 calls/s).
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .build()
            .map_err(std::io::Error::other)?;
        let state = Arc::new(State {
            upstream: origin(&upstream.url),
            pid: upstream.pid,
            client,
            journal,
            faults: Arc::new(Faults {
                book: Mutex::new(Book::new(faults.len(), seed)),
                list: faults,
                setting: Setting {
                    flavor: Flavor::Http,
                    max_message_size,
                },
            }),
            limit: max_message_size.saturating_add(64 * 1024),
            next_conn: AtomicU64::new(0),
            sessions: Mutex::new(HashMap::new()),
            down: Arc::new(AtomicBool::new(false)),
            cut_all: Mutex::new(CancellationToken::new()),
        });
        let stop = CancellationToken::new();
        let task = tokio::spawn(accept(listener, state.clone(), stop.clone()));
        Ok(Self {
            port,
            task,
            stop,
            state,
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Like a killed server: every connection ends and new ones are refused (`up`: accepted
    /// again, as after a restart). Sessions are forgotten either way.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
        lock(&self.state.sessions).clear();
        let old = std::mem::take(&mut *lock(&self.state.cut_all));
        old.cancel();
    }

    /// Stops listening; connections still open get a moment, then are cut.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// `scheme://authority` of `url`.
fn origin(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
            format!("{scheme}://{authority}")
        }
        None => url.to_owned(),
    }
}

async fn accept(listener: TcpListener, state: Arc<State>, stop: CancellationToken) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                // Without it, Nagle's algorithm and the client's delayed ACK may hold a small
                // answer written in pieces back about 40 ms.
                let _ = stream.set_nodelay(true);
                if state.down.load(Ordering::SeqCst) {
                    drop(stream); // a killed server: the connection ends at once
                    continue;
                }
                let state = state.clone();
                let cut = lock(&state.cut_all).clone();
                crate::util::reap(&mut connections);
                connections.spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { handle(&state, request).await }
                    });
                    let serve = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service);
                    tokio::select! {
                        _ = serve => {}
                        () = cut.cancelled() => {}
                    }
                });
            }
        }
    }
    let drained = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(DRAIN, drained).await;
    lock(&state.cut_all).cancel();
    connections.shutdown().await;
}

/// The tap of the request's session: known by its id, else a new connection.
fn tap_of(state: &State, session: Option<&str>) -> (Arc<Tap>, Option<Vec<Out>>) {
    if let Some(tap) = session.and_then(|id| lock(&state.sessions).get(id).cloned()) {
        return (tap, None);
    }
    let conn = state.next_conn.fetch_add(1, Ordering::SeqCst) + 1;
    let (tap, early) = Tap::open(state.journal.clone(), state.faults.clone(), conn);
    (Arc::new(tap), early)
}

async fn handle(state: &State, request: Request<Incoming>) -> Result<Response<Body>, Cut> {
    let (parts, body) = request.into_parts();
    let session = parts
        .headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match Limited::new(body, state.limit).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return Ok(status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
            ));
        }
    };
    let is_post = parts.method == http::Method::POST;
    let (tap, early) = if is_post {
        let (tap, early) = tap_of(state, session.as_deref());
        (Some(tap), early)
    } else {
        (None, None)
    };
    if let (Some(tap), Some(plan)) = (&tap, early) {
        // A connection fault: the "process" is gone before it answers anything.
        return answer(state, tap, plan, None).await;
    }
    if let Some(tap) = &tap {
        tap.client_sent(&body);
    }
    let url = format!(
        "{}{}",
        state.upstream,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut forward = state.client.request(parts.method.clone(), &url);
    for (name, value) in &parts.headers {
        if !HOP.contains(&name.as_str()) {
            forward = forward.header(name, value);
        }
    }
    let upstream = match forward.body(body).send().await {
        Ok(upstream) => upstream,
        Err(e) => {
            // The real server refused or broke the connection: so does the relay.
            if let Some(tap) = &tap {
                tap.journal().record_conn(
                    tap.conn(),
                    What::Server(format!(
                        "the real server did not answer: {}",
                        tap.journal()
                            .redactor()
                            .apply(&crate::transport::public_url(&e.to_string()))
                    )),
                );
            }
            return Err(Cut);
        }
    };
    let Some(tap) = tap else {
        return Ok(pass(upstream));
    };
    if let Some(id) = upstream
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        lock(&state.sessions).insert(id.to_owned(), tap.clone());
    }
    let sse = upstream
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/event-stream"));
    if !upstream.status().is_success() || upstream.status() == StatusCode::ACCEPTED {
        return Ok(pass(upstream));
    }
    let head = head_of(&upstream);
    let bytes = match read_limited(upstream, state.limit).await {
        Ok(bytes) => bytes,
        Err(why) => {
            tap.journal()
                .record_conn(tap.conn(), What::Server(format!("the real answer {why}")));
            return Err(Cut);
        }
    };
    if !sse {
        return match tap.server_sent(&bytes) {
            None => {
                tap.journal().sent(tap.conn(), &bytes);
                Ok(with_head(head, Full::new(bytes).map_err(never).boxed()))
            }
            Some(plan) => answer(state, &tap, plan, Some(head)).await,
        };
    }
    // An event stream: each event's data is a message; the one a fault fired on is replaced.
    let mut before = Vec::new();
    let mut events =
        sse_stream::SseStream::from_bytes_stream(futures::stream::iter([Ok::<_, std::io::Error>(
            bytes.clone(),
        )]));
    while let Some(Ok(event)) = events.next().await {
        let data = event.data.unwrap_or_default();
        if data.is_empty() {
            // A priming event (an id to resume from, no message): passed on, not a message.
            let mut priming = Vec::new();
            if let Some(id) = &event.id {
                priming.extend_from_slice(format!("id: {id}\n").as_bytes());
            }
            if let Some(retry) = event.retry {
                priming.extend_from_slice(format!("retry: {retry}\n").as_bytes());
            }
            priming.extend_from_slice(b"data:\n\n");
            before.push(priming);
            continue;
        }
        match tap.server_sent(data.as_bytes()) {
            None => {
                tap.journal().sent(tap.conn(), data.as_bytes());
                before.push(sse_event(data.as_bytes()));
            }
            Some(plan) => return carry(state, &tap, plan, head, before, true).await,
        }
    }
    Ok(with_head(
        head,
        Full::new(Bytes::from(before.concat()))
            .map_err(never)
            .boxed(),
    ))
}

/// Status and headers of an upstream answer, to pass on.
struct Head {
    status: StatusCode,
    headers: http::HeaderMap,
}

fn head_of(upstream: &reqwest::Response) -> Head {
    let mut headers = http::HeaderMap::new();
    for (name, value) in upstream.headers() {
        if !HOP.contains(&name.as_str()) {
            headers.append(name.clone(), value.clone());
        }
    }
    Head {
        status: upstream.status(),
        headers,
    }
}

fn with_head(head: Head, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = head.status;
    *response.headers_mut() = head.headers;
    response
}

fn never(e: Infallible) -> std::io::Error {
    match e {}
}

fn status(code: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(text)).map_err(never).boxed());
    *response.status_mut() = code;
    response
}

/// An upstream answer passed on as it streams (a GET's event stream, a 202, an error status).
fn pass(upstream: reqwest::Response) -> Response<Body> {
    let head = head_of(&upstream);
    let stream = upstream
        .bytes_stream()
        .map(|chunk| chunk.map(Frame::data).map_err(std::io::Error::other));
    with_head(
        head,
        BodyExt::boxed(http_body_util::StreamBody::new(stream)),
    )
}

async fn read_limited(upstream: reqwest::Response, limit: usize) -> Result<Bytes, String> {
    let mut stream = upstream.bytes_stream();
    let mut all = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("broke off: {e}"))?;
        all.extend_from_slice(&chunk);
        if all.len() > limit {
            return Err(format!("is larger than {limit} bytes"));
        }
    }
    Ok(Bytes::from(all))
}

fn sse_event(data: &[u8]) -> Vec<u8> {
    let mut event = b"event: message\ndata: ".to_vec();
    event.extend_from_slice(data);
    event.extend_from_slice(b"\n\n");
    event
}

/// Carries out `plan` as the HTTP answer: a status or a body (after any wait), or a cut.
async fn answer(
    state: &State,
    tap: &Tap,
    plan: Vec<Out>,
    head: Option<Head>,
) -> Result<Response<Body>, Cut> {
    let json = || {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        Head {
            status: StatusCode::OK,
            headers,
        }
    };
    let head = head.unwrap_or_else(json);
    carry(state, tap, plan, head, Vec::new(), false).await
}

/// The plan's steps, in order: waits before the answer delay it; the first `Send` starts the
/// body (in `sse`, as events after `before`); a `Close` before it cuts the connection, after it
/// breaks the body off; `Hang` never answers (until the connection is cut).
async fn carry(
    state: &State,
    tap: &Tap,
    plan: Vec<Out>,
    mut head: Head,
    before: Vec<Vec<u8>>,
    sse: bool,
) -> Result<Response<Body>, Cut> {
    let cut = lock(&state.cut_all).clone();
    let mut steps = plan.into_iter().peekable();
    // Before the head: waits, statuses, a content type, a cut.
    while let Some(step) = steps.peek() {
        match step {
            Out::Sleep(d) => {
                let d = *d;
                tokio::select! {
                    () = tokio::time::sleep(d) => {}
                    () = cut.cancelled() => return Err(Cut),
                }
            }
            Out::HttpStatus {
                status,
                retry_after,
            } => {
                let mut response = Response::new(Full::new(Bytes::new()).map_err(never).boxed());
                *response.status_mut() =
                    StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                if let Some(after) = retry_after {
                    response
                        .headers_mut()
                        .insert(http::header::RETRY_AFTER, http::HeaderValue::from(*after));
                }
                tap.journal()
                    .record_conn(tap.conn(), What::Sent(format!("HTTP {status}")));
                return Ok(response);
            }
            Out::SessionExpired => {
                tap.journal().record_conn(
                    tap.conn(),
                    What::Sent("HTTP 404 (session expired)".to_owned()),
                );
                lock(&state.sessions).retain(|_, t| t.conn() != tap.conn());
                return Ok(status(StatusCode::NOT_FOUND, "session expired"));
            }
            Out::ContentType(t) => {
                if let Ok(value) = http::HeaderValue::from_str(t) {
                    head.headers.insert(http::header::CONTENT_TYPE, value);
                }
            }
            Out::Close { exit_code } => {
                closed(state, tap, *exit_code);
                return Err(Cut);
            }
            Out::Hang => {
                cut.cancelled().await;
                return Err(Cut);
            }
            Out::Send(_) | Out::Raw(_) | Out::WsClose { .. } => break,
        }
        steps.next();
    }
    // The body: streamed, so that a cut after part of it breaks the connection mid-answer.
    let (mut sender, body) = Channel::<Bytes, std::io::Error>::new(8);
    let journal_conn = (tap.conn(), state.journal.clone());
    let rest: Vec<Out> = steps.collect();
    let crash = rest
        .iter()
        .any(|o| matches!(o, Out::Close { exit_code: Some(_) }));
    let cut_all = cut.clone();
    let crashed = crash.then(|| crash_target(state));
    tokio::spawn(async move {
        let (conn, journal) = journal_conn;
        for chunk in before {
            if sender.send_data(Bytes::from(chunk)).await.is_err() {
                return;
            }
        }
        for step in rest {
            match step {
                Out::Send(bytes) | Out::Raw(bytes) => {
                    journal.sent(conn, &bytes);
                    let data = if sse { sse_event(&bytes) } else { bytes };
                    if sender.send_data(Bytes::from(data)).await.is_err() {
                        return;
                    }
                }
                Out::Sleep(d) => {
                    tokio::select! {
                        () = tokio::time::sleep(d) => {}
                        () = cut_all.cancelled() => return sender.abort(std::io::Error::other(Cut)),
                    }
                }
                Out::Close { exit_code } => {
                    let why = exit_code.map_or("dropped".to_owned(), |c| format!("exit {c}"));
                    journal.record_conn(conn, What::Server(format!("closed ({why})")));
                    sender.abort(std::io::Error::other(Cut));
                    if let Some(crashed) = crashed {
                        crashed.go(&journal, conn);
                    }
                    return;
                }
                Out::Hang => {
                    cut_all.cancelled().await;
                    return sender.abort(std::io::Error::other(Cut));
                }
                _ => {}
            }
        }
    });
    Ok(with_head(head, body.boxed()))
}

/// A cut before any answer: recorded; a crash also takes the "process" down.
fn closed(state: &State, tap: &Tap, exit_code: Option<i32>) {
    let why = exit_code.map_or("dropped".to_owned(), |c| format!("exit {c}"));
    tap.journal().server_closed(tap.conn(), &why);
    if exit_code.is_some() {
        crash_target(state).go(tap.journal(), tap.conn());
    }
}

/// What a crash takes down: the launched server's process group, or else the relay itself (a
/// mock behind it), which then refuses connections until `set_down(false)`.
struct Crash {
    pid: u32,
    down: Arc<AtomicBool>,
    cut_all: CancellationToken,
}

fn crash_target(state: &State) -> Crash {
    Crash {
        pid: state.pid.load(Ordering::SeqCst),
        down: state.down.clone(),
        cut_all: lock(&state.cut_all).clone(),
    }
}

impl Crash {
    fn go(self, journal: &Journal, conn: u64) {
        match i32::try_from(self.pid) {
            Ok(group) if group > 0 => {
                // SAFETY: killpg has no memory-safety preconditions.
                unsafe {
                    libc::killpg(group, libc::SIGKILL);
                }
                journal.record_conn(
                    conn,
                    What::Server("killed the real server (SIGKILL)".to_owned()),
                );
            }
            _ => {
                self.down.store(true, Ordering::SeqCst);
                self.cut_all.cancel();
                journal.record_conn(conn, What::Server("the server is down".to_owned()));
            }
        }
    }
}
