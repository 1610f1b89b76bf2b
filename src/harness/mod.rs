//! The scenario runner: drives the full [`McpClientManager`](crate::manager::McpClientManager)
//! against mocks and real cattackles, checks expectations, renders transcripts from the
//! [`crate::journal`].
//!
//! - `runner`: one trial, step by step; the manager's observer emits into the journal.
//! - `env`: the world a trial runs in (a mock over one transport, or the real cattackle).
//! - `expect`: checks outcomes and what the server received.
//! - `transcript`: the snapshot text, read from the journal.

mod env;
mod expect;
mod outcome;
mod runner;
mod transcript;

pub use env::SetupError;
pub use outcome::{Failure, Outcome};
pub use runner::{Report, RunOptions, clock_of, run};
