//! Mock cattackles: a scripted MCP server with MCP-aware faults, served in-process over a pipe
//! (virtual time works), as a child process, over WebSocket, or over HTTP.
//!
//! - [`server`](MockServer): the shared state (tools, eras, counters, seeded draws) and what it
//!   answers each message: parse → record (into the [`crate::journal`]) → fire → answer.
//! - `faults`: each fault in one place, as a pure plan of [`Out`] steps.
//! - `connection`: carrying out a plan on one connection, whatever its wire.
//! - `memory`, `websocket`, `http`, `network`: the fronts.

mod book;
mod connection;
mod faults;
mod http;
mod memory;
mod network;
mod out;
mod reply;
mod server;
mod websocket;

pub use connection::Ending;
pub use memory::{MemoryMock, MockResource, serve_bytes};
pub use network::NetworkMock;
pub use out::{Flavor, Out};
pub use server::MockServer;

// For the relay in front of a real server, which carries out the same faults.
pub(crate) use book::{Book, Fired, target_of};
pub(crate) use connection::{Wire, run_plan};
pub(crate) use faults::{Setting, describe, plan};
pub(crate) use memory::ByteWire;
pub(crate) use websocket::WsWire;
