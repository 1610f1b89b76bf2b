//! The [`Connector`] trait and what it hands the manager.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use super::StdioConnector;
use crate::config::{CattackleConfig, TransportConfig};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Reaches a cattackle: spawns or connects, without the MCP handshake.
pub trait Connector: Send + Sync + 'static {
    /// Opens a connection for `config`. The manager bounds this by `connect_timeout`.
    fn connect<'a>(
        &'a self,
        config: &'a CattackleConfig,
    ) -> BoxFuture<'a, Result<Connection, ConnectError>>;
}

impl Connector for Box<dyn Connector> {
    fn connect<'a>(
        &'a self,
        config: &'a CattackleConfig,
    ) -> BoxFuture<'a, Result<Connection, ConnectError>> {
        (**self).connect(config)
    }
}

/// The wire of a connection.
pub enum TransportIo {
    /// Newline-delimited JSON-RPC over a pair of byte streams (stdio, in-memory pipes).
    Bytes {
        /// What the cattackle writes.
        read: Box<dyn AsyncRead + Send + Unpin>,
        /// What the cattackle reads.
        write: Box<dyn AsyncWrite + Send + Unpin>,
    },
    /// Whole JSON-RPC messages (WebSocket frames).
    Messages {
        /// Outgoing messages.
        sink: super::websocket::JsonRpcSink<rmcp::RoleClient>,
        /// Incoming messages; the end of the stream is the end of the connection.
        stream: super::websocket::JsonRpcStream<rmcp::RoleClient>,
    },
    /// MCP Streamable HTTP.
    Http(rmcp::transport::StreamableHttpClientTransport<super::SessionClient>),
}

/// A live connection, before the handshake.
pub struct Connection {
    /// The wire.
    pub io: TransportIo,
    /// What keeps the other end alive, and how to end it.
    pub resource: Box<dyn SessionResource>,
}

impl Connection {
    /// A connection over one duplex byte stream (an in-memory pipe), with no resource behind it.
    pub fn duplex(stream: tokio::io::DuplexStream) -> Self {
        let (read, write) = tokio::io::split(stream);
        Self {
            io: TransportIo::Bytes {
                read: Box::new(read),
                write: Box::new(write),
            },
            resource: Box::new(NoResource),
        }
    }
}

/// What stands behind a session: a child process, a socket, a task.
pub trait SessionResource: Send + Sync + 'static {
    /// Cheap liveness: is the process running, the socket open? No round trip.
    fn is_alive(&self) -> bool;

    /// Context for a failed start, such as the tail of a child's stderr; waits up to `settle`
    /// for a dying process to finish writing it.
    fn failure_context(&self, settle: Duration) -> BoxFuture<'_, Option<String>>;

    /// Ends the resource once the transport is closed: waits up to `grace`, then kills.
    /// Must return within about `grace` plus a short, bounded cleanup.
    fn shutdown(self: Box<Self>, grace: Duration) -> BoxFuture<'static, ()>;

    /// The session's last call timed out: the other end is busy and will not act on an end of
    /// its input soon. Ask it to stop now (a child's process group gets SIGTERM); `shutdown`
    /// still kills it after the grace.
    fn interrupt(&self) {}

    /// Why the connection ended, when the resource knows (a WebSocket close frame or error).
    fn close_reason(&self) -> Option<String> {
        None
    }

    /// The operating-system process id, for a process-backed resource.
    fn pid(&self) -> Option<u32> {
        None
    }
}

/// A resource with nothing behind it (in-memory transports).
#[derive(Debug, Default)]
pub struct NoResource;

impl SessionResource for NoResource {
    fn is_alive(&self) -> bool {
        true
    }

    fn failure_context(&self, _settle: Duration) -> BoxFuture<'_, Option<String>> {
        Box::pin(async { None })
    }

    fn shutdown(self: Box<Self>, _grace: Duration) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

/// Why a connection could not be opened. Nothing reached the cattackle.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The program could not be started.
    #[error("failed to start `{command}`: {source}")]
    Spawn {
        /// The program.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration can never work (a missing `cwd`, a NUL byte): not worth a retry.
    #[error("{0}")]
    Config(String),
    /// Anything else, said in words.
    #[error("{0}")]
    Other(String),
}

/// The connector for real cattackles: picks the transport from the configuration.
#[derive(Debug, Default, Clone)]
pub struct DefaultConnector {
    stdio: StdioConnector,
}

impl DefaultConnector {
    /// A connector whose stdio transport also looks for bare command names in `dirs`, after
    /// `PATH` (the CLI passes the directory of its own executable, so companion binaries built or
    /// installed beside it are found).
    pub fn with_program_dirs(dirs: Vec<std::path::PathBuf>) -> Self {
        Self {
            stdio: StdioConnector::with_program_dirs(dirs),
        }
    }
}

impl Connector for DefaultConnector {
    fn connect<'a>(
        &'a self,
        config: &'a CattackleConfig,
    ) -> BoxFuture<'a, Result<Connection, ConnectError>> {
        let max_message_size = config.mcp.max_message_size;
        match &config.mcp.transport {
            TransportConfig::Stdio(stdio) => Box::pin(self.stdio.spawn(&config.name, stdio)),
            TransportConfig::WebSocket { url, headers } => {
                Box::pin(super::websocket::connect(url, headers, max_message_size))
            }
            TransportConfig::Http { url, headers } => {
                let limits = super::http::HttpLimits {
                    connect_timeout: config.mcp.connect_timeout,
                    max_message_size,
                };
                let connection = super::http::connect(url, headers, limits);
                Box::pin(async move { connection })
            }
        }
    }
}
