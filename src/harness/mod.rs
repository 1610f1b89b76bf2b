//! The scenario runner: drives the full [`McpClientManager`](crate::manager::McpClientManager)
//! against mocks and real cattackles, checks expectations, records transcripts.

mod env;
mod expect;
pub mod journal;
mod runner;
pub mod snapshot;
mod transcript;

pub use env::SetupError;
pub use expect::Outcome;
pub use runner::{Failure, Report, RunOptions, clock_of, run};
