//! [`MockServer`]: the state of a scripted server shared by all its connections, and the plan of
//! what to send for each message it receives, faults applied.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::faults::{describe, position_fires, request_matches};
use super::reply::{self, Answer, Context};
use crate::harness::journal::{Journal, What};
use crate::scenario::model::{Era, Fault, FaultAction, MockSpec, Tool};
use crate::util::lock;

/// How a transport frames messages; decides how byte-level faults are carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Newline-delimited bytes (stdio, in-memory pipes): partial writes are possible.
    Bytes,
    /// Whole messages (WebSocket frames).
    Messages,
    /// One HTTP response per request.
    Http,
}

/// One thing a connection does while answering.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// Wait.
    Sleep(Duration),
    /// Send one whole message (the transport frames it).
    Send(Vec<u8>),
    /// Write bytes as they are, no framing (byte transports).
    Raw(Vec<u8>),
    /// Close the connection; `exit_code` when the "process" exits.
    Close {
        /// The exit code, for a crash.
        exit_code: Option<i32>,
    },
    /// Never answer.
    Hang,
    /// WebSocket close frame.
    WsClose {
        /// Close code.
        code: u16,
        /// Reason.
        reason: String,
    },
    /// An HTTP status instead of an answer.
    HttpStatus {
        /// Status code.
        status: u16,
        /// `Retry-After`, seconds.
        retry_after: Option<u64>,
    },
    /// HTTP 404 for a session the server no longer knows.
    SessionExpired,
    /// HTTP: the next answer has this `Content-Type`.
    ContentType(String),
}

/// A request the server received, for `server_expect`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Received {
    /// The connection, from 1.
    pub conn: u64,
    /// The method.
    pub method: String,
    /// For `tools/call`: the tool.
    pub tool: Option<String>,
    /// For `tools/call`: the arguments.
    pub arguments: Option<Value>,
}

struct State {
    fault_counts: Vec<u32>,
    tool_calls: HashMap<String, u32>,
    rng: fastrand::Rng,
    received: Vec<Received>,
    connections: u32,
}

/// The counters of a mock that must survive its process (`stdio-process` mocks are a new
/// process per session, yet `nth: 2` means the second request of the whole run).
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Counters {
    fault_counts: Vec<u32>,
    tool_calls: HashMap<String, u32>,
    rng_seed: u64,
    connections: u32,
}

/// A scripted MCP server: tools, eras, faults, and what it received.
pub struct MockServer {
    tools: BTreeMap<String, Tool>,
    eras: Vec<Era>,
    faults: Vec<Fault>,
    pub(super) flavor: Flavor,
    pub(super) max_message_size: usize,
    journal: Arc<Journal>,
    state: Mutex<State>,
    down: AtomicBool,
    generation: tokio::sync::watch::Sender<u64>,
    next_conn: AtomicU64,
    persist: Option<std::path::PathBuf>,
}

impl MockServer {
    /// A server with `spec`'s tools (or `commands`, each with the default reply, when `spec`
    /// has none) and `faults`, recording to `journal`.
    pub fn new(
        spec: &MockSpec,
        commands: impl IntoIterator<Item = (String, String)>,
        faults: Vec<Fault>,
        flavor: Flavor,
        max_message_size: usize,
        seed: u64,
        journal: Arc<Journal>,
    ) -> Self {
        let tools = if spec.tools.is_empty() {
            commands
                .into_iter()
                .map(|(name, description)| (name, Tool::with_default_reply(description)))
                .collect()
        } else {
            spec.tools.clone()
        };
        let eras = if spec.eras.is_empty() {
            vec![Era::Initialize, Era::Discover]
        } else {
            spec.eras.clone()
        };
        Self {
            tools,
            eras,
            state: Mutex::new(State {
                fault_counts: vec![0; faults.len()],
                tool_calls: HashMap::new(),
                rng: fastrand::Rng::with_seed(seed),
                received: Vec::new(),
                connections: 0,
            }),
            faults,
            flavor,
            max_message_size,
            journal,
            down: AtomicBool::new(false),
            generation: tokio::sync::watch::Sender::new(0),
            next_conn: AtomicU64::new(0),
            persist: None,
        }
    }

    /// Keeps the counters (fault positions, calls per tool, connections, random state) in
    /// `file`: restored now if it exists, saved after every change.
    pub fn persisted(mut self, file: std::path::PathBuf) -> Self {
        if let Some(saved) = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice::<Counters>(&b).ok())
        {
            let state = crate::util::get_mut(&mut self.state);
            if saved.fault_counts.len() == state.fault_counts.len() {
                state.fault_counts = saved.fault_counts;
            }
            state.tool_calls = saved.tool_calls;
            state.rng = fastrand::Rng::with_seed(saved.rng_seed);
            state.connections = saved.connections;
            self.next_conn = AtomicU64::new(u64::from(saved.connections));
        }
        self.persist = Some(file);
        self
    }

    fn save(&self, state: &mut State) {
        let Some(file) = &self.persist else { return };
        let seed = state.rng.u64(..);
        state.rng = fastrand::Rng::with_seed(seed);
        let counters = Counters {
            fault_counts: state.fault_counts.clone(),
            tool_calls: state.tool_calls.clone(),
            rng_seed: seed,
            connections: state.connections,
        };
        let saved = serde_json::to_vec(&counters)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(file, bytes));
        if let Err(e) = saved {
            // The next process would count faults from zero: say so where the trial shows it.
            tracing::error!(
                "cannot save the mock's fault counters to {}: {e}",
                file.display()
            );
        }
    }

    /// The journal it records to.
    pub fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.state).received.clone()
    }

    /// Whether the server is down (killed and not restarted).
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    /// Ends every connection; the server stays down until [`Self::restart`].
    pub fn kill(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.journal.record(What::Server("killed".to_owned()));
        self.generation.send_modify(|g| *g += 1);
    }

    /// Ends every connection; new ones are accepted.
    pub fn restart(&self) {
        self.down.store(false, Ordering::SeqCst);
        self.journal.record(What::Server("restarted".to_owned()));
        self.generation.send_modify(|g| *g += 1);
    }

    /// Changes when the server is killed or restarted: connections end.
    pub fn generation(&self) -> tokio::sync::watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// A new connection: its number, and what to do before reading anything (a connection
    /// fault), if anything.
    pub fn connect(&self) -> (u64, Option<Vec<Out>>) {
        let conn = self.next_conn.fetch_add(1, Ordering::SeqCst) + 1;
        self.journal
            .record_conn(conn, What::Server("open".to_owned()));
        let mut state = lock(&self.state);
        state.connections += 1;
        let count = state.connections;
        let fired = self.faults.iter().enumerate().find_map(|(i, fault)| {
            (fault.action.on_connect() && position_fires(&fault.matcher, count, &mut state.rng))
                .then_some(i)
        });
        self.save(&mut state);
        drop(state);
        let Some(i) = fired else {
            return (conn, None);
        };
        self.journal.record_conn(
            conn,
            What::Fault(format!(
                "{} (faults[{i}], connection {count})",
                self.faults[i].action.key()
            )),
        );
        (conn, Some(vec![Out::Close { exit_code: Some(1) }]))
    }

    /// Records that a connection ended and why.
    pub fn closed(&self, conn: u64, why: &str) {
        self.journal
            .record_conn(conn, What::Server(format!("closed ({why})")));
    }

    /// What to send for one incoming message on connection `conn`.
    pub fn on_message(&self, conn: u64, bytes: &[u8]) -> Vec<Out> {
        let message: Value = match serde_json::from_slice(bytes) {
            Ok(m) => m,
            Err(_) => {
                self.journal.record_conn(
                    conn,
                    What::Received(format!(
                        "(not JSON) {}",
                        String::from_utf8_lossy(bytes).trim_end()
                    )),
                );
                return Vec::new();
            }
        };
        self.journal.received(conn, &message);
        let Some(method) = message.get("method").and_then(Value::as_str) else {
            return Vec::new(); // a response to us: we never ask anything
        };
        let Some(id) = message.get("id").cloned() else {
            // A notification: recorded for `server_expect`, never answered.
            let received = Received {
                conn,
                method: method.to_owned(),
                tool: None,
                arguments: None,
            };
            self.journal.mirror_received(&received);
            lock(&self.state).received.push(received);
            return Vec::new();
        };
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        let modern = params
            .pointer("/_meta/io.modelcontextprotocol~1protocolVersion")
            .is_some();
        let tool = (method == "tools/call")
            .then(|| {
                params
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .flatten();
        let arguments = tool.as_ref().map(|_| {
            params
                .get("arguments")
                .cloned()
                .unwrap_or(Value::Object(Default::default()))
        });
        let received = Received {
            conn,
            method: method.to_owned(),
            tool: tool.clone(),
            arguments: arguments.clone(),
        };
        self.journal.mirror_received(&received);
        let mut state = lock(&self.state);
        state.received.push(received);
        let call = match &tool {
            Some(name) => {
                let n = state.tool_calls.entry(name.clone()).or_insert(0);
                *n += 1;
                *n
            }
            None => 0,
        };
        let fired = self.faults.iter().enumerate().find_map(|(i, fault)| {
            if fault.action.on_connect()
                || !request_matches(fault, method, tool.as_deref(), arguments.as_ref())
            {
                return None;
            }
            state.fault_counts[i] += 1;
            let count = state.fault_counts[i];
            position_fires(&fault.matcher, count, &mut state.rng).then_some((i, count))
        });
        let jitter = fired.and_then(|(i, _)| match &self.faults[i].action {
            FaultAction::Latency(l) if !l.jitter.0.is_zero() => {
                let j = l.jitter.0.as_secs_f64();
                Some(state.rng.f64() * 2.0 * j - j)
            }
            _ => None,
        });
        self.save(&mut state);
        drop(state);

        let answer = self.answer(
            method,
            &params,
            &id,
            tool.as_deref(),
            arguments.as_ref(),
            call,
        );
        let mut response = match answer {
            Some(Answer::Result(mut result)) => {
                // An empty discover answer stays exactly `{}` (the `2026-empty-result` era).
                let empty_discover = method == "server/discover" && result == json!({});
                if modern
                    && !empty_discover
                    && let Some(obj) = result.as_object_mut()
                {
                    obj.entry("resultType").or_insert(json!("complete"));
                }
                json!({ "jsonrpc": "2.0", "id": id, "result": result })
            }
            Some(Answer::Error(e)) => error_response(&id, e.code, &e.message, e.data),
            None => error_response(&id, -32601, &format!("Method not found: {method}"), None),
        };
        let Some((i, count)) = fired else {
            return vec![Out::Send(to_bytes(&response))];
        };
        let fault = &self.faults[i];
        let target = match &tool {
            Some(t) => format!("{method} {t}"),
            None => method.to_owned(),
        };
        self.journal.record_conn(
            conn,
            What::Fault(format!(
                "{} (faults[{i}], {target} #{count})",
                describe(&fault.action)
            )),
        );
        if let FaultAction::Latency(l) = &fault.action {
            let secs = (l.latency.0.as_secs_f64() + jitter.unwrap_or(0.0)).max(0.0);
            return vec![
                Out::Sleep(Duration::from_secs_f64(secs)),
                Out::Send(to_bytes(&response)),
            ];
        }
        self.apply(&fault.action, &id, &mut response)
    }

    fn answer(
        &self,
        method: &str,
        params: &Value,
        id: &Value,
        tool: Option<&str>,
        arguments: Option<&Value>,
        call: u32,
    ) -> Option<Answer> {
        let result = match method {
            "initialize" if self.eras.contains(&Era::Initialize) => {
                reply::initialize_result(params)
            }
            "server/discover" if self.eras.contains(&Era::Discover) => reply::discover_result(),
            "server/discover" if self.eras.contains(&Era::EmptyDiscover) => json!({}),
            "ping" => json!({}),
            "tools/list" => reply::tools_list(self.tools.iter()),
            "tools/call" => {
                let name = tool.unwrap_or_default();
                let Some(spec) = self.tools.get(name) else {
                    return Some(Answer::Error(crate::scenario::model::JsonRpcErrorSpec {
                        code: -32602,
                        message: format!("Unknown tool: {name}"),
                        data: None,
                    }));
                };
                let null = Value::Null;
                let cx = Context {
                    id,
                    tool: name,
                    args: arguments.unwrap_or(&null),
                    call,
                };
                return Some(reply::answer(spec.reply(call), &cx));
            }
            _ => return None,
        };
        Some(Answer::Result(result))
    }
}

pub(super) fn to_bytes(message: &Value) -> Vec<u8> {
    serde_json::to_vec(message).unwrap_or_default()
}

pub(super) fn error_response(id: &Value, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut error = json!({ "code": code, "message": message });
    if let Some(data) = data {
        error["data"] = data;
    }
    json!({ "jsonrpc": "2.0", "id": id, "error": error })
}
