//! Serving the echo cattackle over WebSocket and Streamable HTTP, at the path `/mcp`.

use std::sync::Arc;

use cattackle_harness::transport::websocket::{
    WebSocketState, json_rpc, negotiate_subprotocol, websocket_config,
};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{RoleServer, ServerHandler, ServiceExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;

use crate::EchoCattackle;

/// Where both network transports serve.
pub const MCP_PATH: &str = "/mcp";

const MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

/// Serves the echo cattackle over WebSocket on `listener`; see [`serve_websocket_with`].
pub async fn serve_websocket(listener: TcpListener) -> std::io::Result<()> {
    serve_websocket_with(listener, EchoCattackle::new).await
}

/// Serves MCP over WebSocket on `listener` until the process ends: one session per connection,
/// each with a handler from `make`, subprotocol `mcp` echoed when asked for, anything but `/mcp`
/// answered 404.
pub async fn serve_websocket_with<S, F>(listener: TcpListener, make: F) -> std::io::Result<()>
where
    S: ServerHandler,
    F: Fn() -> S + Send + Sync + 'static,
{
    let make = Arc::new(make);
    loop {
        let (stream, peer) = listener.accept().await?;
        let make = make.clone();
        tokio::spawn(async move {
            #[expect(clippy::result_large_err, reason = "tungstenite's callback signature")]
            let callback = |request: &Request, mut response: Response| {
                if request.uri().path() != MCP_PATH {
                    let mut not_found = ErrorResponse::new(Some("not found".to_owned()));
                    *not_found.status_mut() = StatusCode::NOT_FOUND;
                    return Err(not_found);
                }
                negotiate_subprotocol(request, &mut response);
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
            match make().serve((sink, stream)).await {
                Ok(running) => {
                    let _ = running.waiting().await;
                }
                Err(e) => tracing::debug!(%peer, "MCP handshake failed: {e}"),
            }
        });
    }
}

/// Serves the echo cattackle over Streamable HTTP on `listener`; see [`serve_http_with`].
pub async fn serve_http(listener: TcpListener) -> std::io::Result<()> {
    serve_http_with(listener, EchoCattackle::new).await
}

/// Serves MCP Streamable HTTP on `listener` at `/mcp` until the process ends, one handler from
/// `make` per MCP session.
pub async fn serve_http_with<S, F>(listener: TcpListener, make: F) -> std::io::Result<()>
where
    S: ServerHandler,
    F: Fn() -> S + Send + Sync + 'static,
{
    axum::serve(listener, http_app(make)).await
}

/// The MCP Streamable HTTP service at `/mcp`, as a router that tests can add routes to.
pub fn http_app<S, F>(make: F) -> axum::Router
where
    S: ServerHandler,
    F: Fn() -> S + Send + Sync + 'static,
{
    let service = StreamableHttpService::new(
        move || Ok(make()),
        Arc::new(LocalSessionManager::default()),
        // DNS-rebinding protection: browsers may reach it only from pages of this machine.
        StreamableHttpServerConfig::default().with_allowed_origins([
            "http://localhost:*",
            "http://127.0.0.1:*",
            "http://[::1]:*",
        ]),
    );
    axum::Router::new().nest_service(MCP_PATH, service)
}
