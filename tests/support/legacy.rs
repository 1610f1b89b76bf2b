//! The worst case of `protocol = "auto"`: a server of the `initialize` era that never answers
//! `server/discover`, as the harness's own [`MockServer`] expresses it (`eras: ["2025"]` and a
//! `hang` on discover), served in memory.

use std::sync::Arc;

use cattackle_harness::journal::{Journal, Redactor, What};
use cattackle_harness::mock::{Flavor, MemoryMock, MockServer};
use cattackle_harness::scenario::load_str;

const LEGACY: &str = r#"
name: legacy
cattackle:
  inline:
    name: mock
    version: "1"
    description: legacy
    commands: { echo: { description: echo } }
    mcp: { transport: { type: stdio, command: unused } }
mock:
  eras: ["2025"]
  tools:
    echo: { respond: { data: legacy, error: null } }
faults:
  - { match: { method: server/discover }, hang: true }
steps: []
"#;

/// A legacy server for the manager, and its journal (whose `open` entries count connections).
pub fn legacy_connector() -> (MemoryMock, Arc<Journal>) {
    let file = load_str("legacy.yaml".as_ref(), "legacy", LEGACY)
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let journal = Arc::new(Journal::new(false, Redactor::default()));
    let server = MockServer::new(
        &file.scenario.mock,
        [],
        file.scenario.faults.clone(),
        Flavor::Bytes,
        1 << 20,
        0,
        journal.clone(),
    );
    (MemoryMock::new(Arc::new(server)), journal)
}

/// How many connections a journal's server saw.
pub fn connections(journal: &Journal) -> usize {
    journal
        .entries()
        .iter()
        .filter(|e| matches!(&e.what, What::Server(s) if s == "open"))
        .count()
}
