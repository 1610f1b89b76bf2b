//! Mocks served over real sockets on 127.0.0.1 (WebSocket, HTTP); real time only.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::server::MockServer;

/// A mock listening on a port of 127.0.0.1.
pub struct NetworkMock {
    port: u16,
    kind: Kind,
}

enum Kind {
    WebSocket {
        task: tokio::task::JoinHandle<()>,
        stop: CancellationToken,
    },
    Http(Box<wiremock::MockServer>),
}

impl NetworkMock {
    /// Serves `server` over WebSocket (subprotocol `mcp`) at `ws://127.0.0.1:PORT/mcp`.
    pub async fn websocket(server: Arc<MockServer>) -> std::io::Result<Self> {
        let (port, task, stop) = super::websocket::listen(server).await?;
        Ok(Self {
            port,
            kind: Kind::WebSocket { task, stop },
        })
    }

    /// Serves `server` over MCP Streamable HTTP at `http://127.0.0.1:PORT/mcp`, on wiremock.
    pub async fn http(server: Arc<MockServer>, body: crate::scenario::model::HttpBody) -> Self {
        let mock = super::http::start(server, body).await;
        Self {
            port: mock.address().port(),
            kind: Kind::Http(Box::new(mock)),
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops listening and ends every connection.
    pub async fn stop(self) {
        match self.kind {
            Kind::WebSocket { task, stop } => {
                stop.cancel();
                let _ = task.await;
            }
            Kind::Http(server) => drop(server),
        }
    }
}
