//! Mock cattackles: a scripted MCP server with MCP-aware faults, served in-process over a pipe
//! (virtual time works), as a child process, over WebSocket, or over HTTP.

mod faults;
mod http;
mod memory;
mod network;
mod plan;
mod reply;
mod server;
mod websocket;

pub use faults::{call_matches, contains};
pub use memory::{MemoryMock, MockResource, serve_bytes};
pub use network::NetworkMock;
pub use plan::Ending;
pub use server::{Flavor, MockServer, Out, Received};
