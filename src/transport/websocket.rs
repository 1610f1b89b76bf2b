//! WebSocket: one JSON-RPC message per text frame, subprotocol `mcp`.
//!
//! rmcp has no WebSocket transport; this adapter turns a tungstenite stream into the
//! `Sink`/`Stream` pair rmcp serves on, for either role (the manager's client side, and the echo
//! cattackle's server side). A close frame, a socket error or the end of the stream ends the
//! stream at once, so in-flight calls fail as "transport closed" instead of hanging.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Sink, SinkExt, Stream, StreamExt};
use rmcp::service::{RxJsonRpcMessage, ServiceRole, TxJsonRpcMessage};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{ProtocolError, SubProtocolError};
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::{BoxFuture, ConnectError, Connection, SessionResource, TransportIo};
use crate::config::SecretMap;

/// The subprotocol asked for and offered.
pub const SUBPROTOCOL: &str = "mcp";

/// A sending error of the WebSocket adapter.
#[derive(Debug, thiserror::Error)]
pub enum WebSocketSendError {
    /// The message could not be serialized.
    #[error("cannot serialize a JSON-RPC message: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The socket refused it.
    #[error("websocket: {0}")]
    Socket(#[from] WsError),
}

/// How a WebSocket connection ended, shared with the session's liveness check.
#[derive(Clone, Default)]
pub struct WebSocketState {
    closed: Arc<AtomicBool>,
    reason: Arc<Mutex<Option<String>>>,
}

impl WebSocketState {
    /// Whether the stream has ended.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Why it ended, when it ended abnormally.
    pub fn reason(&self) -> Option<String> {
        crate::util::lock(&self.reason).clone()
    }

    fn close(&self, reason: Option<String>) {
        if let Some(reason) = reason {
            tracing::debug!("websocket closed: {reason}");
            *crate::util::lock(&self.reason) = Some(reason);
        }
        self.closed.store(true, Ordering::Release);
    }
}

/// The tungstenite configuration for a size limit: incoming messages and frames are capped at
/// `max_message_size`, and the write buffer is bounded.
pub fn websocket_config(max_message_size: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(max_message_size))
        .max_frame_size(Some(max_message_size))
        .max_write_buffer_size(max_message_size.saturating_mul(2).max(256 * 1024))
}

/// The boxed sink and stream of one side of an MCP WebSocket.
pub type JsonRpcSink<R> =
    std::pin::Pin<Box<dyn Sink<TxJsonRpcMessage<R>, Error = WebSocketSendError> + Send>>;
/// See [`JsonRpcSink`].
pub type JsonRpcStream<R> = std::pin::Pin<Box<dyn Stream<Item = RxJsonRpcMessage<R>> + Send>>;

enum Frame<T> {
    Message(T),
    Skip,
    End(Option<String>),
}

/// Adapts a WebSocket to JSON-RPC messages for role `R`. Unparsable text frames are logged and
/// skipped; the stream ends on a close frame, an error (such as an oversized message) or EOF.
pub fn json_rpc<R, S>(
    socket: WebSocketStream<S>,
    state: WebSocketState,
) -> (JsonRpcSink<R>, JsonRpcStream<R>)
where
    R: ServiceRole,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (write, read) = socket.split();
    // Socket errors convert through `From`, not `sink_map_err`: that adapter holds its mapper
    // for one error only and panics at the second ("polled MapErr after completion"), which
    // rmcp sends to a socket that has closed.
    let sink = write.with(|message: TxJsonRpcMessage<R>| async move {
        let text = serde_json::to_string(&message)?;
        Ok::<_, WebSocketSendError>(Message::Text(text.into()))
    });
    let ended = state.clone();
    let stream = read
        .map(|frame| match frame {
            Ok(Message::Text(text)) => parse::<RxJsonRpcMessage<R>>(text.as_bytes()),
            Ok(Message::Binary(bytes)) => parse::<RxJsonRpcMessage<R>>(&bytes),
            Ok(Message::Close(close)) => {
                Frame::End(close.map(|c| format!("close frame {} {}", u16::from(c.code), c.reason)))
            }
            Ok(_) => Frame::Skip,
            Err(e) => Frame::End(Some(e.to_string())),
        })
        .chain(futures::stream::once(async { Frame::End(None) }))
        .take_while(move |frame| {
            let go_on = match frame {
                Frame::End(reason) => {
                    ended.close(reason.clone());
                    false
                }
                _ => true,
            };
            std::future::ready(go_on)
        })
        .filter_map(|frame| {
            std::future::ready(match frame {
                Frame::Message(m) => Some(m),
                _ => None,
            })
        });
    (Box::pin(sink), Box::pin(stream))
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Frame<T> {
    match serde_json::from_slice(bytes) {
        Ok(message) => Frame::Message(message),
        Err(e) => {
            tracing::warn!("ignoring a websocket frame that is not a JSON-RPC message: {e}");
            Frame::Skip
        }
    }
}

/// Connects to a cattackle's WebSocket endpoint, sending `headers` on the upgrade request and
/// asking for subprotocol `mcp` (a server that does not echo it is tolerated).
pub(crate) async fn connect(
    url: &str,
    headers: &SecretMap,
    max_message_size: usize,
) -> Result<Connection, ConnectError> {
    super::tls::ensure_crypto_provider();
    let socket = match open(url, headers, max_message_size, true).await {
        Err(WsError::Protocol(ProtocolError::SecWebSocketSubProtocolError(
            SubProtocolError::NoSubProtocol,
        ))) => {
            tracing::debug!("server did not accept subprotocol `mcp`: reconnecting without it");
            open(url, headers, max_message_size, false).await
        }
        other => other,
    }
    .map_err(|e| ConnectError::Other(format!("websocket connect to {}: {e}", public_url(url))))?;
    let state = WebSocketState::default();
    let (sink, stream) = json_rpc::<rmcp::RoleClient, _>(socket, state.clone());
    Ok(Connection {
        io: TransportIo::Messages { sink, stream },
        resource: Box::new(SocketResource { state }),
    })
}

/// A WebSocket client socket.
pub(crate) type ClientSocket =
    WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the socket, asking for subprotocol `mcp` when `subprotocol`; also returns the
/// subprotocol the server answered with, if any.
pub(crate) async fn open_raw(
    url: &str,
    headers: &SecretMap,
    max_message_size: usize,
    subprotocol: bool,
) -> Result<(ClientSocket, Option<String>), WsError> {
    super::tls::ensure_crypto_provider();
    let mut request = url.into_client_request()?;
    let target = request.headers_mut();
    for (name, value) in headers.iter() {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|e| WsError::HttpFormat(e.into()))?;
        let value = HeaderValue::from_str(value).map_err(|e| WsError::HttpFormat(e.into()))?;
        target.insert(name, value);
    }
    if subprotocol {
        target.insert(
            "sec-websocket-protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
    }
    let config = websocket_config(max_message_size);
    let (socket, response) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
    let answered = response
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((socket, answered))
}

async fn open(
    url: &str,
    headers: &SecretMap,
    max_message_size: usize,
    subprotocol: bool,
) -> Result<ClientSocket, WsError> {
    Ok(open_raw(url, headers, max_message_size, subprotocol)
        .await?
        .0)
}

/// The server side of the upgrade: answers with subprotocol `mcp` when the client offers it.
/// For `tokio_tungstenite::accept_hdr_async`.
pub fn negotiate_subprotocol(
    request: &tokio_tungstenite::tungstenite::handshake::server::Request,
    response: &mut tokio_tungstenite::tungstenite::handshake::server::Response,
) {
    let offered = request
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|p| p.trim() == SUBPROTOCOL));
    if offered {
        response.headers_mut().insert(
            "sec-websocket-protocol",
            http::HeaderValue::from_static(SUBPROTOCOL),
        );
    }
}

/// A URL without credentials, query or fragment, for messages, logs and listings.
pub fn public_url(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or(url);
    match without_query.split_once("://") {
        Some((scheme, rest)) => {
            let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            format!("{scheme}://{rest}")
        }
        None => without_query.to_owned(),
    }
}

/// A socket-backed session: alive until its stream ends.
struct SocketResource {
    state: WebSocketState,
}

impl SessionResource for SocketResource {
    fn is_alive(&self) -> bool {
        !self.state.is_closed()
    }

    fn failure_context(&self, _settle: Duration) -> BoxFuture<'_, Option<String>> {
        Box::pin(async move { self.state.reason() })
    }

    fn close_reason(&self) -> Option<String> {
        self.state.reason()
    }

    fn shutdown(self: Box<Self>, _grace: Duration) -> BoxFuture<'static, ()> {
        // Dropping the transport closes the socket.
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use futures::SinkExt;
    use rmcp::RoleClient;
    use rmcp::model::{ClientJsonRpcMessage, ClientRequest, PingRequest, RequestId};
    use tokio_tungstenite::tungstenite::protocol::Role;

    use super::*;

    #[tokio::test]
    async fn sends_after_the_socket_closed_fail_every_time_without_panicking() {
        let (ours, theirs) = tokio::io::duplex(1024);
        let socket = WebSocketStream::from_raw_socket(ours, Role::Client, None).await;
        let (mut sink, _stream) = json_rpc::<RoleClient, _>(socket, WebSocketState::default());
        drop(theirs);
        let ping = || {
            ClientJsonRpcMessage::request(
                ClientRequest::PingRequest(PingRequest::default()),
                RequestId::Number(1),
            )
        };
        // The soak found the second failed send panicking ("polled MapErr after completion").
        for _ in 0..3 {
            assert!(sink.send(ping()).await.is_err());
        }
    }
}
