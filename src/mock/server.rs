//! [`MockServer`]: the state of a scripted server shared by all its connections, and what it
//! sends for each message it receives: parse, record, fire (counters and seeded draws), answer.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::book::{Book, Fired, target_of};
use super::faults::{self, Draws, Setting, describe};
use super::out::{Flavor, Out};
use super::reply::{self, Answer, Context, error_response, to_bytes};
use crate::journal::{Journal, Received, What};
use crate::scenario::model::{Era, Fault, MockSpec, Tool};
use crate::util::lock;

struct State {
    book: Book,
    tool_calls: HashMap<String, u32>,
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
    setting: Setting,
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
                book: Book::new(faults.len(), seed),
                tool_calls: HashMap::new(),
            }),
            faults,
            setting: Setting {
                flavor,
                max_message_size,
            },
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
            if saved.fault_counts.len() == state.book.counts.len() {
                state.book.counts = saved.fault_counts;
            }
            state.tool_calls = saved.tool_calls;
            state.book.rng = fastrand::Rng::with_seed(saved.rng_seed);
            state.book.connections = saved.connections;
            self.next_conn = AtomicU64::new(u64::from(saved.connections));
        }
        self.persist = Some(file);
        self
    }

    fn save(&self, state: &mut State) {
        let Some(file) = &self.persist else { return };
        let seed = state.book.rng.u64(..);
        state.book.rng = fastrand::Rng::with_seed(seed);
        let counters = Counters {
            fault_counts: state.book.counts.clone(),
            tool_calls: state.tool_calls.clone(),
            rng_seed: seed,
            connections: state.book.connections,
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
        let (count, fired) = state.book.connect(&self.faults);
        self.save(&mut state);
        drop(state);
        let Some(i) = fired else {
            return (conn, None);
        };
        let action = &self.faults[i].action;
        self.journal.record_conn(
            conn,
            What::Fault(format!(
                "{} (faults[{i}], connection {count})",
                describe(action)
            )),
        );
        let plan = faults::plan(action, &Value::Null, self.setting, Draws::default());
        (conn, Some(plan))
    }

    /// Records that a connection ended and why.
    pub fn closed(&self, conn: u64, why: &str) {
        self.journal.server_closed(conn, why);
    }

    /// What to send for one incoming message on connection `conn`: parse, record, fire the
    /// fault it meets (if any), answer.
    pub fn on_message(&self, conn: u64, bytes: &[u8]) -> Vec<Out> {
        let Ok(message) = serde_json::from_slice::<Value>(bytes) else {
            self.journal.received_garbage(conn, bytes);
            return Vec::new();
        };
        self.journal.received(conn, &message);
        let Some(request) = Received::of(conn, &message) else {
            return Vec::new(); // a response to us: we never ask anything
        };
        let Some(id) = message.get("id") else {
            return Vec::new(); // a notification: recorded for `server_expect`, never answered
        };
        let (call, fired) = self.fire(&request);
        let response = self.response(&message, &request, id, call);
        let Some(Fired {
            index,
            count,
            draws,
        }) = fired
        else {
            return vec![Out::Send(to_bytes(&response))];
        };
        let action = &self.faults[index].action;
        self.journal.record_conn(
            conn,
            What::Fault(format!(
                "{} (faults[{index}], {} #{count})",
                describe(action),
                target_of(&request)
            )),
        );
        faults::plan(action, &response, self.setting, draws)
    }

    /// Counts the request (per tool, per fault) and finds the first fault that fires on it,
    /// drawing from the seeded generator in a fixed order. Returns the call's number for its
    /// tool (0 for other methods) and the fault.
    fn fire(&self, request: &Received) -> (u32, Option<Fired>) {
        let mut state = lock(&self.state);
        let state = &mut *state;
        let call = match &request.tool {
            Some(name) => {
                let n = state.tool_calls.entry(name.clone()).or_insert(0);
                *n += 1;
                *n
            }
            None => 0,
        };
        let fired = state.book.request(&self.faults, request);
        self.save(state);
        (call, fired)
    }

    /// The whole JSON-RPC answer to a request, before faults.
    fn response(&self, message: &Value, request: &Received, id: &Value, call: u32) -> Value {
        let method = request.method.as_str();
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        let answer = self.answer(
            method,
            &params,
            id,
            request.tool.as_deref(),
            request.arguments.as_ref(),
            call,
        );
        match answer {
            Some(Answer::Result(mut result)) => {
                let modern = params
                    .pointer("/_meta/io.modelcontextprotocol~1protocolVersion")
                    .is_some();
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
            Some(Answer::Error(e)) => error_response(id, e.code, &e.message, e.data),
            None => error_response(id, -32601, &format!("Method not found: {method}"), None),
        }
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
