//! The conformance runner behind `cattackle check`: a pack of checks run against any cattackle
//! or MCP server, over stdio, WebSocket or Streamable HTTP, on raw frames.
//!
//! - [`target`]: what is checked (a cattackle, or any server by command line or URL);
//! - [`wire`]: a raw JSON-RPC session that keeps every frame the server sent;
//! - [`catalog`]: the checks, with ids, severities and references; `checks/` holds the built-in
//!   ones, [`pack`] those written as data (`pack/*.yaml`, embedded; `--pack DIR` adds more);
//! - [`run`]: the runner (pre-flight, checks at once, each bounded);
//! - [`baseline`]: accepted failures, and stale entries;
//! - [`model`]: the report; [`report`]: human, JSON and JUnit renderings of it.

pub mod baseline;
pub mod catalog;
mod checks;
pub mod ctx;
pub mod def;
pub mod model;
pub mod pack;
pub mod report;
pub mod run;
mod schema;
pub mod target;
pub mod wire;

pub use baseline::{Baseline, BaselineError};
pub use catalog::{Pack, catalog};
pub use ctx::{Era, Options};
pub use def::{CheckDef, Needs};
pub use model::{CheckResult, RunReport, Severity, Status, SuiteReport};
pub use run::{Selection, run_suite};
pub use target::{Target, TargetError};
