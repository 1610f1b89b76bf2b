//! In-memory transports: a server running as a task of this process, over a pipe.
//!
//! No process and no socket, so a paused tokio clock drives every timeout and backoff exactly.

use rmcp::{ServerHandler, ServiceExt};

use super::{BoxFuture, ConnectError, Connection, Connector};
use crate::config::CattackleConfig;

/// Buffer size of each in-memory pipe.
const PIPE_BYTES: usize = 1 << 20;

type Factory = dyn Fn(&CattackleConfig) -> Result<Connection, ConnectError> + Send + Sync;

/// A connector that makes every connection with a function, typically one that starts an
/// in-process server with [`serve_in_memory`].
pub struct MemoryConnector {
    factory: Box<Factory>,
}

impl MemoryConnector {
    /// Connects by calling `factory` for each new session.
    pub fn new(
        factory: impl Fn(&CattackleConfig) -> Result<Connection, ConnectError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            factory: Box::new(factory),
        }
    }
}

impl Connector for MemoryConnector {
    fn connect<'a>(
        &'a self,
        config: &'a CattackleConfig,
    ) -> BoxFuture<'a, Result<Connection, ConnectError>> {
        let connection = (self.factory)(config);
        Box::pin(async move { connection })
    }
}

/// Starts `handler` as a task serving one end of an in-memory pipe; returns the other end.
/// The server ends when the client closes the pipe.
pub fn serve_in_memory<S: ServerHandler>(handler: S) -> Connection {
    let (client, server) = tokio::io::duplex(PIPE_BYTES);
    tokio::spawn(async move {
        if let Ok(running) = handler.serve(server).await {
            let _ = running.waiting().await;
        }
    });
    Connection::duplex(client)
}
