//! The journal of a run, at the ground floor of the harness: session events, every JSON-RPC
//! message (ids renumbered), attempts, faults, steps and outcomes, with times on the scenario's
//! clock, and the requests each server received. Secrets, ports, pids and temp paths are
//! redacted as entries are recorded.
//!
//! Everyone else only emits into it: the mock servers (in-process, or a child process through
//! [`Journal::mirrored`]), the runner's steps and the manager's observer. The transcript renderer
//! and `server_expect` only read it. It depends on nothing above [`crate::util`].

mod child;
mod received;
mod redact;
mod timeline;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;

pub use received::Received;
pub use redact::Redactor;
pub use timeline::{Mark, MarkKind};

use crate::util::{Dur, lock};

/// One line of a transcript.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    /// Time since the start of the run (virtual clock only: real times vary from run to run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<Dur>,
    /// The server-side connection (from 1), for server events.
    #[serde(default, rename = "c", skip_serializing_if = "Option::is_none")]
    pub conn: Option<u64>,
    /// What happened.
    #[serde(flatten)]
    pub what: What,
}

/// What a transcript line says.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum What {
    /// A server-side connection event: `conn 1 open`, `conn 1 closed (exit 1)`.
    Server(String),
    /// A message the server received, ids renumbered per connection.
    #[serde(rename = "->")]
    Received(String),
    /// A message the server sent.
    #[serde(rename = "<-")]
    Sent(String),
    /// A fault applied.
    Fault(String),
    /// What a real server sent that the relay did not pass on as it was (a fault replaced,
    /// delayed or cut it); what the client got follows as `<-`.
    Withheld(String),
    /// The manager's side: attempts, failures, sessions.
    Client(String),
    /// A step started or ended.
    Step(String),
}

#[derive(Default)]
struct Ids {
    /// Per connection: original id (as JSON text) → renumbered id.
    map: HashMap<(u64, String), u64>,
    next: HashMap<u64, u64>,
}

/// Records a run's transcript. Shared by the runner, the manager's observer and the mock.
pub struct Journal {
    start: Instant,
    timed: bool,
    redactor: Redactor,
    entries: Mutex<Vec<Entry>>,
    received: Mutex<Vec<Received>>,
    ids: Mutex<Ids>,
    mirror: Option<child::Mirror>,
    marks: Mutex<Vec<Mark>>,
    /// False: a journal that keeps nothing (a soak, a bench), so a long run holds no record.
    keep: bool,
}

impl Journal {
    /// A journal whose times count from now; `timed` shows them (virtual clock).
    pub fn new(timed: bool, redactor: Redactor) -> Self {
        Self {
            start: Instant::now(),
            timed,
            redactor,
            entries: Mutex::new(Vec::new()),
            received: Mutex::new(Vec::new()),
            ids: Mutex::new(Ids::default()),
            mirror: None,
            marks: Mutex::new(Vec::new()),
            keep: true,
        }
    }

    /// A journal that records nothing: for runs too long to keep a transcript of.
    pub fn discarding() -> Self {
        Self {
            keep: false,
            ..Self::new(false, Redactor::default())
        }
    }

    /// Time since the start of the run.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// The redactor, for other reports of the same run.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Records one entry; its text is redacted.
    pub fn record(&self, what: What) {
        self.record_on(None, what);
    }

    /// Records one entry about server connection `conn`.
    pub fn record_conn(&self, conn: u64, what: What) {
        self.record_on(Some(conn), what);
    }

    fn record_on(&self, conn: Option<u64>, what: What) {
        if !self.keep {
            return;
        }
        let t = self.timed.then(|| Dur(self.elapsed()));
        let wire = match &what {
            What::Fault(text) => Some(MarkKind::Fault {
                text: self.redactor.apply(text),
            }),
            What::Received(text) => Some(MarkKind::Wire {
                conn,
                dir: "->",
                text: self.redactor.apply(text),
            }),
            What::Sent(text) => Some(MarkKind::Wire {
                conn,
                dir: "<-",
                text: self.redactor.apply(text),
            }),
            _ => None,
        };
        self.push(conn, t, what);
        if let Some(mark) = wire {
            self.mark(mark);
        }
    }

    /// Records a mark of the timeline, at the time it is now on the run's clock. Texts in it
    /// must be redacted already (those from entries are, here).
    pub fn mark(&self, what: MarkKind) {
        if !self.keep {
            return;
        }
        let at_us = u64::try_from(self.elapsed().as_micros()).unwrap_or(u64::MAX);
        lock(&self.marks).push(Mark { at_us, what });
    }

    /// The marks so far, in the order they were recorded.
    pub fn marks(&self) -> Vec<Mark> {
        lock(&self.marks).clone()
    }

    /// Redacts and stores one entry (and mirrors it, in a child).
    fn push(&self, conn: Option<u64>, t: Option<Dur>, what: What) {
        let what = match what {
            What::Server(s) => What::Server(self.redactor.apply(&s)),
            What::Received(s) => What::Received(self.redactor.apply(&s)),
            What::Sent(s) => What::Sent(self.redactor.apply(&s)),
            What::Fault(s) => What::Fault(self.redactor.apply(&s)),
            What::Withheld(s) => What::Withheld(self.redactor.apply(&s)),
            What::Client(s) => What::Client(self.redactor.apply(&s)),
            What::Step(s) => What::Step(self.redactor.apply(&s)),
        };
        let entry = Entry { t, conn, what };
        if let Some(mirror) = &self.mirror {
            mirror.entry(&entry);
        }
        lock(&self.entries).push(entry);
    }

    /// Records a message the server received on connection `conn` (ids renumbered), and, for a
    /// request or notification, what it asks for (see [`Self::received_requests`]).
    pub fn received(&self, conn: u64, message: &Value) {
        if !self.keep {
            return;
        }
        let text = shorten(self.renumber(conn, message, true));
        self.record_conn(conn, What::Received(text));
        if let Some(request) = Received::of(conn, message) {
            if let Some(mirror) = &self.mirror {
                mirror.received(&request);
            }
            lock(&self.received).push(request);
        }
    }

    /// Records bytes the server received that are not JSON.
    pub fn received_garbage(&self, conn: u64, bytes: &[u8]) {
        let text = format!("(not JSON) {}", String::from_utf8_lossy(bytes).trim_end());
        self.record_conn(conn, What::Received(shorten(text)));
    }

    /// Every request and notification the servers received so far, in order.
    pub fn received_requests(&self) -> Vec<Received> {
        lock(&self.received).clone()
    }

    /// Records a message the server sent on connection `conn` (`bytes` need not be valid).
    pub fn sent(&self, conn: u64, bytes: &[u8]) {
        if !self.keep {
            return;
        }
        self.record_conn(conn, What::Sent(self.outgoing(conn, bytes)));
    }

    /// Records that the server side of connection `conn` closed it, and why.
    pub fn server_closed(&self, conn: u64, why: &str) {
        self.record_conn(conn, What::Server(format!("closed ({why})")));
    }

    /// Records a message a real server sent on connection `conn` that a fault kept from the
    /// client as it was.
    pub fn withheld(&self, conn: u64, bytes: &[u8]) {
        if !self.keep {
            return;
        }
        self.record_conn(conn, What::Withheld(self.outgoing(conn, bytes)));
    }

    /// A server's message as the transcript shows it (`bytes` need not be valid).
    fn outgoing(&self, conn: u64, bytes: &[u8]) -> String {
        shorten(match serde_json::from_slice::<Value>(bytes) {
            Ok(message) => self.renumber(conn, &message, false),
            Err(_) => format!("(not JSON) {}", String::from_utf8_lossy(bytes).trim_end()),
        })
    }

    fn renumber(&self, conn: u64, message: &Value, incoming: bool) -> String {
        let mut message = message.clone();
        if let Some(obj) = message.as_object_mut() {
            obj.remove("jsonrpc");
            if let Some(id) = obj.get_mut("id") {
                let key = (conn, id.to_string());
                let mut ids = lock(&self.ids);
                let known = ids.map.get(&key).copied();
                *id = match (known, incoming) {
                    (Some(n), _) => Value::from(n),
                    (None, true) => {
                        let next = ids.next.entry(conn).or_insert(0);
                        *next += 1;
                        let n = *next;
                        ids.map.insert(key, n);
                        Value::from(n)
                    }
                    (None, false) => Value::String(format!("unknown {}", id)),
                };
            }
            // A cancellation names the request it cancels: renumber that id too.
            if let Some(request) = obj.get_mut("params").and_then(|p| p.get_mut("requestId")) {
                let key = (conn, request.to_string());
                if let Some(n) = lock(&self.ids).map.get(&key) {
                    *request = Value::from(*n);
                }
            }
            hide_versions(obj);
        }
        message.to_string()
    }

    /// The entries so far.
    pub fn entries(&self) -> Vec<Entry> {
        lock(&self.entries).clone()
    }
}

/// Longest message text kept whole in a transcript.
const MAX_SHOWN: usize = 400;

/// Cuts long messages (an oversized answer) to a readable head and their length.
fn shorten(text: String) -> String {
    crate::util::cut(&text, MAX_SHOWN)
}

/// Hides the client's own version, which changes with every release of this crate.
fn hide_versions(message: &mut serde_json::Map<String, Value>) {
    let Some(params) = message.get_mut("params") else {
        return;
    };
    for pointer in [
        "/clientInfo/version",
        "/_meta/io.modelcontextprotocol~1clientInfo/version",
    ] {
        if let Some(v) = params.pointer_mut(pointer) {
            *v = Value::String("[version]".to_owned());
        }
    }
}
