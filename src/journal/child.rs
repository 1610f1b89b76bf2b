//! A child-process server (`cattackle mock-server`) is one more emitter: its journal appends each
//! entry and request to a file, one JSON line each, and the runner reads them back, in order,
//! into its own journal when the trial ends. Connection numbers need no mapping: the child's
//! counters persist across its processes, so connections are numbered across the whole run.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{Entry, Journal, Received, What};
use crate::util::lock;

/// One line of a child's journal file.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ChildLine {
    /// A transcript entry.
    Entry(Entry),
    /// A request, for `server_expect`.
    Received(Received),
}

/// Where a child's journal writes its lines.
pub(super) struct Mirror {
    file: Mutex<std::fs::File>,
}

impl Mirror {
    pub(super) fn entry(&self, entry: &Entry) {
        self.write(&ChildLine::Entry(entry.clone()));
    }

    pub(super) fn received(&self, received: &Received) {
        self.write(&ChildLine::Received(received.clone()));
    }

    fn write(&self, line: &ChildLine) {
        let mut text = match serde_json::to_string(line) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!("cannot encode a journal line: {e}");
                return;
            }
        };
        text.push('\n');
        if let Err(e) = lock(&self.file).write_all(text.as_bytes()) {
            // The runner would miss this line: say so on stderr, which the manager keeps.
            tracing::error!("cannot write the mock's journal: {e}");
        }
    }
}

impl Journal {
    /// Also appends every entry and request to `file`, one JSON line each (a child-process
    /// mock reporting to its runner, which reads them back with [`Journal::absorb_child`]).
    pub fn mirrored(mut self, file: std::fs::File) -> Self {
        self.mirror = Some(Mirror {
            file: Mutex::new(file),
        });
        self
    }

    /// Reads a child's journal file back into this journal, in order: its entries (redacted
    /// here, untimed) and its requests. A missing file means the child never started; an
    /// unreadable line is recorded as such, not dropped.
    pub fn absorb_child(&self, path: &Path) {
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<ChildLine>(line) {
                Ok(ChildLine::Entry(entry)) => self.push(entry.conn, None, entry.what),
                Ok(ChildLine::Received(received)) => lock(&self.received).push(received),
                Err(e) => self.record(What::Server(format!(
                    "unreadable line in the child's journal ({e}): {}",
                    crate::util::cut(line, 200)
                ))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Redactor;
    use super::*;
    use serde_json::json;

    #[test]
    fn a_childs_entries_and_requests_come_back_in_order_and_redacted() {
        let dir = std::env::temp_dir().join(format!("journal-child-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("journal.jsonl");
        for conn in [1, 2] {
            // Two processes, one after the other, appending to the same file.
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .unwrap();
            let child = Journal::new(false, Redactor::default()).mirrored(file);
            child.record_conn(conn, What::Server("open".into()));
            let call = json!({"id": 1, "method": "tools/call",
                "params": {"name": "echo", "arguments": {"token": "s3cret"}}});
            child.received(conn, &call);
        }
        std::fs::write(
            &path,
            format!("{}not json\n", std::fs::read_to_string(&path).unwrap()),
        )
        .unwrap();
        let mut redactor = Redactor::default();
        redactor.secret(["s3cret".to_owned()]);
        let parent = Journal::new(false, redactor);
        parent.absorb_child(&path);
        let entries = parent.entries();
        let conns: Vec<Option<u64>> = entries.iter().map(|e| e.conn).collect();
        assert_eq!(conns, [Some(1), Some(1), Some(2), Some(2), None]);
        let text = serde_json::to_string(&entries).unwrap();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("unreadable line"), "{text}");
        let received = parent.received_requests();
        assert_eq!(received.iter().map(|r| r.conn).collect::<Vec<_>>(), [1, 2]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
