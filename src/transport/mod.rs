//! The connector seam: how the manager reaches a cattackle.
//!
//! A [`Connector`] turns a [`CattackleConfig`](crate::config::CattackleConfig) into a
//! [`Connection`]: its wire ([`TransportIo`]: a byte stream of newline-delimited JSON-RPC for
//! stdio and in-memory pipes, whole messages for WebSocket, rmcp's Streamable HTTP client for
//! HTTP) plus the [`SessionResource`] behind it (a child process, a socket, an in-memory task).
//! The manager does the MCP handshake, the timeouts and the retries itself, so tests and the
//! harness plug in in-memory or mocked transports without touching it.

mod connector;
mod http;
mod line_limit;
mod memory;
pub mod processes;
pub mod server_requests;
mod stderr_tail;
mod stdio;
mod tls;
pub mod websocket;

pub use connector::{
    BoxFuture, ConnectError, Connection, Connector, DefaultConnector, NoResource, SessionResource,
    TransportIo,
};
#[cfg(feature = "harness")]
pub(crate) use line_limit::LineLimit;
pub(crate) use line_limit::bounded;
pub use memory::MemoryConnector;
pub use stdio::StdioConnector;
#[cfg(feature = "harness")]
pub(crate) use tls::ensure_crypto_provider;
pub use websocket::public_url;

pub use http::SessionClient;
pub(crate) use http::{http_refusal, is_session_expired, unlinked_source};
