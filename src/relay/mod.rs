//! Faults between the manager and a *real* cattackle: a relay in the harness process that
//! reads every JSON-RPC message both ways, so the mock's fault vocabulary and targeting, and
//! `server_expect`, work on a real server.
//!
//! - `tap`: the MCP-aware part, shared by every wire: records what each side sent, fires faults
//!   on requests (the mock's [`Book`](crate::mock)), and plans what the manager gets instead of
//!   the real answer.
//! - `stdio`: a [`Connector`](crate::transport::Connector) that spawns the real child and sits
//!   between the manager and its pipes.
//! - `lines`: newline-delimited reading with a bound: a line longer than the bound passes
//!   through unparsed, never buffered whole.
//!
//! It runs on real time (the real server does), and stops with its session.

mod http;
mod lines;
mod stdio;
mod tap;
mod websocket;

pub use http::HttpRelay;
#[cfg(fuzzing)]
pub(crate) use lines::fuzz_lines;
pub use stdio::RelayConnector;
pub use websocket::{Upstream, WsRelay};
