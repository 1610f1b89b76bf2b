//! The transcript of a run: session events, every JSON-RPC message (ids renumbered), attempts,
//! faults and outcomes, with times on the scenario's clock. Secrets, ports, pids and temp paths
//! are redacted as entries are recorded.

use crate::util::lock;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;

use crate::scenario::Dur;

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
    /// The manager's side: attempts, failures, sessions.
    Client(String),
    /// A step started or ended.
    Step(String),
}

/// Replaces what must not reach a snapshot or a report.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    literal: Vec<(String, &'static str)>,
}

impl Redactor {
    /// Redacts each of `values` (secrets) as `[secret]`.
    pub fn secret(&mut self, values: impl IntoIterator<Item = String>) {
        for v in values {
            if !v.is_empty() {
                self.literal.push((v, "[secret]"));
            }
        }
    }

    /// Redacts a path (a temp dir) as `[tmp]`.
    pub fn path(&mut self, path: &std::path::Path) {
        self.literal.push((path.display().to_string(), "[tmp]"));
    }

    /// The text with secrets, paths, ports and pids replaced.
    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, with) in &self.literal {
            out = out.replace(value.as_str(), with);
        }
        for (prefix, with) in [
            ("127.0.0.1:", "[port]"),
            ("localhost:", "[port]"),
            ("pid ", "[pid]"),
            ("process ", "[pid]"),
        ] {
            out = redact_pattern(&out, prefix, with);
        }
        out
    }
}

/// Replaces the digits following each `prefix` with `with`.
fn redact_pattern(text: &str, prefix: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(prefix) {
        let after = i + prefix.len();
        out.push_str(&rest[..after]);
        let digits = rest[after..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - after);
        if digits > 0 {
            out.push_str(with);
        }
        rest = &rest[after + digits..];
    }
    out.push_str(rest);
    out
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
    ids: Mutex<Ids>,
    mirror: Option<Mutex<std::fs::File>>,
}

/// A line the `cattackle mock-server` child writes to its journal file, read back by the runner.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChildLine {
    /// A new process starts.
    Start,
    /// A transcript entry.
    Entry(Entry),
    /// A request, for `server_expect`.
    Received(crate::mock::Received),
}

impl Journal {
    /// A journal whose times count from now; `timed` shows them (virtual clock).
    pub fn new(timed: bool, redactor: Redactor) -> Self {
        Self {
            start: Instant::now(),
            timed,
            redactor,
            entries: Mutex::new(Vec::new()),
            ids: Mutex::new(Ids::default()),
            mirror: None,
        }
    }

    /// Also appends every entry and request to `file`, one JSON line each (a child-process mock
    /// reporting to its runner).
    pub fn mirrored(mut self, mut file: std::fs::File) -> Self {
        write_line(&mut file, &ChildLine::Start);
        self.mirror = Some(Mutex::new(file));
        self
    }

    /// Mirrors a received request (see [`Self::mirrored`]).
    pub fn mirror_received(&self, received: &crate::mock::Received) {
        if let Some(file) = &self.mirror {
            write_line(&mut lock(file), &ChildLine::Received(received.clone()));
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
        let what = match what {
            What::Server(s) => What::Server(self.redactor.apply(&s)),
            What::Received(s) => What::Received(self.redactor.apply(&s)),
            What::Sent(s) => What::Sent(self.redactor.apply(&s)),
            What::Fault(s) => What::Fault(self.redactor.apply(&s)),
            What::Client(s) => What::Client(self.redactor.apply(&s)),
            What::Step(s) => What::Step(self.redactor.apply(&s)),
        };
        let t = self.timed.then(|| Dur(self.elapsed()));
        let entry = Entry { t, conn, what };
        if let Some(file) = &self.mirror {
            write_line(&mut lock(file), &ChildLine::Entry(entry.clone()));
        }
        lock(&self.entries).push(entry);
    }

    /// Records a message the server received on connection `conn`.
    pub fn received(&self, conn: u64, message: &Value) {
        let text = shorten(self.renumber(conn, message, true));
        self.record_conn(conn, What::Received(text));
    }

    /// Records a message the server sent on connection `conn` (`bytes` need not be valid).
    pub fn sent(&self, conn: u64, bytes: &[u8]) {
        let text = match serde_json::from_slice::<Value>(bytes) {
            Ok(message) => self.renumber(conn, &message, false),
            Err(_) => format!("(not JSON) {}", String::from_utf8_lossy(bytes).trim_end()),
        };
        let text = shorten(text);
        self.record_conn(conn, What::Sent(text));
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
    if text.len() <= MAX_SHOWN {
        return text;
    }
    let mut cut = MAX_SHOWN;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..cut], text.len())
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

fn write_line(file: &mut std::fs::File, line: &ChildLine) {
    use std::io::Write;
    if let Ok(mut text) = serde_json::to_string(line) {
        text.push('\n');
        let _ = file.write_all(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_ports_pids_and_secrets() {
        let mut r = Redactor::default();
        r.secret(["s3cret".to_owned()]);
        assert_eq!(
            r.apply("ws://127.0.0.1:40123/mcp pid 991 token s3cret"),
            "ws://127.0.0.1:[port]/mcp pid [pid] token [secret]"
        );
    }
}
