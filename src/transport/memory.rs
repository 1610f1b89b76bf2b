//! In-memory transports: a server running as a task of this process, over a pipe.
//!
//! No process and no socket, so a paused tokio clock drives every timeout and backoff exactly.

use super::{BoxFuture, ConnectError, Connection, Connector};
use crate::config::CattackleConfig;

type Factory = dyn Fn(&CattackleConfig) -> Result<Connection, ConnectError> + Send + Sync;

/// A connector that makes every connection with a function, typically one that starts an
/// in-process server on one end of a `tokio::io::duplex` pipe and returns
/// [`Connection::duplex`] of the other.
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
