//! Integration tests, one binary.

#[path = "../support/mod.rs"]
mod support;

mod architecture;
mod check;
mod ci_docs;
mod cli;
mod config;
mod harness;
mod hostile;
mod input_limits;
mod manager_retry;
mod manager_sessions;
mod network;
mod protocol;
mod record;
mod report_browser;
mod resilience;
mod response;
mod secrets;
mod signals;
mod spawn_policy;
mod stdio;
mod test_cli;
mod tls;
