//! Serving the echo cattackle over WebSocket and Streamable HTTP, at the path `/mcp`.

use std::sync::Arc;

use cattackle_harness::transport::websocket::{
    SUBPROTOCOL, WebSocketState, json_rpc, websocket_config,
};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{RoleServer, ServiceExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};

use crate::EchoCattackle;

/// Where both network transports serve.
pub const MCP_PATH: &str = "/mcp";

const MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

/// Serves MCP over WebSocket on `listener` until the process ends: one session per connection,
/// subprotocol `mcp` echoed when asked for, anything but `/mcp` answered 404.
pub async fn serve_websocket(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        tokio::spawn(async move {
            let callback = |request: &Request, mut response: Response| {
                if request.uri().path() != MCP_PATH {
                    let mut not_found = ErrorResponse::new(Some("not found".to_owned()));
                    *not_found.status_mut() = StatusCode::NOT_FOUND;
                    return Err(not_found);
                }
                let asked = request
                    .headers()
                    .get_all("sec-websocket-protocol")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .any(|v| v.split(',').any(|p| p.trim() == SUBPROTOCOL));
                if asked {
                    response.headers_mut().insert(
                        "sec-websocket-protocol",
                        HeaderValue::from_static(SUBPROTOCOL),
                    );
                }
                Ok(response)
            };
            let config = Some(websocket_config(MAX_MESSAGE_SIZE));
            let socket =
                match tokio_tungstenite::accept_hdr_async_with_config(stream, callback, config)
                    .await
                {
                    Ok(socket) => socket,
                    Err(e) => {
                        tracing::debug!(%peer, "websocket handshake failed: {e}");
                        return;
                    }
                };
            let (sink, stream) = json_rpc::<RoleServer, _>(socket, WebSocketState::default());
            match EchoCattackle::new().serve((sink, stream)).await {
                Ok(running) => {
                    let _ = running.waiting().await;
                }
                Err(e) => tracing::debug!(%peer, "MCP handshake failed: {e}"),
            }
        });
    }
}

/// Serves MCP Streamable HTTP on `listener` at `/mcp` until the process ends.
pub async fn serve_http(listener: TcpListener) -> std::io::Result<()> {
    let service = StreamableHttpService::new(
        || Ok(EchoCattackle::new()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let app = axum::Router::new().nest_service(MCP_PATH, service);
    axum::serve(listener, app).await
}
