//! The mock over MCP Streamable HTTP, on wiremock: one POST per message, JSON answers,
//! `Mcp-Session-Id` sessions, HTTP statuses and `Retry-After` as faults.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use wiremock::{Request, Respond, ResponseTemplate};

use super::out::Out;
use super::server::MockServer;
use crate::journal::What;
use crate::scenario::model::HttpBody;
use crate::util::lock;

const SESSION_HEADER: &str = "mcp-session-id";
/// What `hang` means over HTTP: an answer later than any timeout.
const HANG: Duration = Duration::from_secs(24 * 3600);

struct Sessions {
    /// Session id → connection.
    live: HashMap<String, u64>,
    /// The connection of requests without a session (the stateless 2026 era).
    stateless: Option<u64>,
    generation: u64,
}

struct Responder {
    server: Arc<MockServer>,
    body: HttpBody,
    sessions: Mutex<Sessions>,
}

pub(super) async fn start(server: Arc<MockServer>, body: HttpBody) -> wiremock::MockServer {
    let mock = wiremock::MockServer::builder().start().await;
    let responder = Responder {
        server,
        body,
        sessions: Mutex::new(Sessions {
            live: HashMap::new(),
            stateless: None,
            generation: 0,
        }),
    };
    wiremock::Mock::given(wiremock::matchers::path("/mcp"))
        .respond_with(responder)
        .mount(&mock)
        .await;
    mock
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let server = &self.server;
        if server.is_down() {
            return ResponseTemplate::new(503);
        }
        let session = request
            .headers
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut sessions = lock(&self.sessions);
        let generation = *server.generation().borrow();
        if sessions.generation != generation {
            // Killed or restarted: a new server process knows no session.
            sessions.live.clear();
            sessions.stateless = None;
            sessions.generation = generation;
        }
        match request.method.as_str() {
            "GET" => return ResponseTemplate::new(405), // no server-initiated stream
            "DELETE" => {
                // Not journaled: the client sends it from a background close, at no fixed point.
                if let Some(id) = &session {
                    sessions.live.remove(id);
                }
                return ResponseTemplate::new(200);
            }
            _ => {}
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let method = body
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (conn, new_session) = match &session {
            Some(id) => match sessions.live.get(id) {
                Some(conn) => (*conn, None),
                None => {
                    server.journal().record(What::Server(
                        "request for an unknown session: 404".to_owned(),
                    ));
                    return ResponseTemplate::new(404);
                }
            },
            None if method == "initialize" => {
                let (conn, _) = server.connect();
                let id = format!("session-{conn}");
                sessions.live.insert(id.clone(), conn);
                (conn, Some(id))
            }
            None => match sessions.stateless {
                Some(conn) => (conn, None),
                None => {
                    let (conn, _) = server.connect();
                    sessions.stateless = Some(conn);
                    (conn, None)
                }
            },
        };
        drop(sessions);
        let plan = server.on_message(conn, &request.body);
        let mut delay = Duration::ZERO;
        let mut response = None;
        let mut content_type = None;
        for out in plan {
            match out {
                Out::Sleep(d) => delay += d,
                Out::ContentType(t) => content_type = Some(t),
                Out::Send(bytes) | Out::Raw(bytes) if response.is_none() => {
                    server.journal().sent(conn, &bytes);
                    let (body, default_type) = match self.body {
                        HttpBody::Json => (bytes, "application/json"),
                        HttpBody::Sse => {
                            let mut event = b"event: message\ndata: ".to_vec();
                            event.extend_from_slice(&bytes);
                            event.extend_from_slice(b"\n\n");
                            (event, "text/event-stream")
                        }
                    };
                    let mime = content_type.as_deref().unwrap_or(default_type);
                    response = Some(ResponseTemplate::new(200).set_body_raw(body, mime));
                }
                Out::Hang => delay = HANG,
                Out::HttpStatus {
                    status,
                    retry_after,
                } => {
                    let mut r = ResponseTemplate::new(status);
                    if let Some(s) = retry_after {
                        r = r.insert_header("retry-after", s.to_string());
                    }
                    response = Some(r);
                }
                Out::SessionExpired => {
                    if let Some(id) = &session {
                        lock(&self.sessions).live.remove(id);
                    }
                    response = Some(ResponseTemplate::new(404));
                }
                _ => {}
            }
        }
        let mut response = response.unwrap_or_else(|| ResponseTemplate::new(202));
        if let Some(id) = new_session {
            response = response.insert_header(SESSION_HEADER, id.as_str());
        }
        response.set_delay(delay)
    }
}
