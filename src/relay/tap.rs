//! The MCP-aware part of the relay, whatever the wire: what each side sent goes into the
//! journal, a request a fault fires on is remembered, and the real answer to it is replaced by
//! the fault's plan (the same plan the mock carries out).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::journal::{Journal, Received, What};
use crate::mock::{Book, Out, Setting, describe, plan, target_of};
use crate::scenario::model::Fault;
use crate::util::lock;

/// The faults of a trial and their counters, shared by every connection the relay carries.
pub(crate) struct Faults {
    pub(crate) list: Vec<Fault>,
    pub(crate) book: Mutex<Book>,
    pub(crate) setting: Setting,
}

/// One relayed connection.
pub(crate) struct Tap {
    journal: Arc<Journal>,
    faults: Arc<Faults>,
    conn: u64,
    /// Requests a fault fired on (the id as JSON text) and which fault, until answered.
    pending: Mutex<HashMap<String, crate::mock::Fired>>,
}

impl Tap {
    /// Connection `conn`, recorded as open; and the connection fault that fires on it, planned.
    pub(crate) fn open(
        journal: Arc<Journal>,
        faults: Arc<Faults>,
        conn: u64,
    ) -> (Self, Option<Vec<Out>>) {
        journal.record_conn(conn, What::Server("open".to_owned()));
        let (count, fired) = lock(&faults.book).connect(&faults.list);
        let early = fired.map(|i| {
            let action = &faults.list[i].action;
            journal.record_conn(
                conn,
                What::Fault(format!(
                    "{} (faults[{i}], connection {count})",
                    describe(action)
                )),
            );
            plan(action, &Value::Null, faults.setting, Default::default())
        });
        let tap = Self {
            journal,
            faults,
            conn,
            pending: Mutex::new(HashMap::new()),
        };
        (tap, early)
    }

    /// The journal it records to.
    pub(crate) fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The connection's number.
    pub(crate) fn conn(&self) -> u64 {
        self.conn
    }

    /// A message from the client, on its way to the server: recorded, and counted by the
    /// faults that target it. It is always passed on: the real server does the real work.
    pub(crate) fn client_sent(&self, bytes: &[u8]) {
        let Ok(message) = serde_json::from_slice::<Value>(bytes) else {
            self.journal.received_garbage(self.conn, bytes);
            return;
        };
        self.journal.received(self.conn, &message);
        let (Some(request), Some(id)) = (Received::of(self.conn, &message), message.get("id"))
        else {
            return;
        };
        let Some(fired) = lock(&self.faults.book).request(&self.faults.list, &request) else {
            return;
        };
        let action = &self.faults.list[fired.index].action;
        self.journal.record_conn(
            self.conn,
            What::Fault(format!(
                "{} (faults[{}], {} #{})",
                describe(action),
                fired.index,
                target_of(&request),
                fired.count
            )),
        );
        lock(&self.pending).insert(id.to_string(), fired);
    }

    /// A message from the server: `None` to pass it on as it is (the caller records it as
    /// sent), or what to do instead, when it answers a request a fault fired on (the real
    /// answer is recorded as withheld).
    pub(crate) fn server_sent(&self, bytes: &[u8]) -> Option<Vec<Out>> {
        let message = serde_json::from_slice::<Value>(bytes).ok()?;
        if message.get("method").is_some() {
            return None; // the server's own request or notification
        }
        let id = message.get("id")?;
        let fired = lock(&self.pending).remove(&id.to_string())?;
        self.journal.withheld(self.conn, bytes);
        let action = &self.faults.list[fired.index].action;
        Some(plan(action, &message, self.faults.setting, fired.draws))
    }
}
