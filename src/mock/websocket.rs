//! The mock over WebSocket: a tungstenite server on 127.0.0.1, one MCP connection per socket.

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message, Utf8Bytes};
use tokio_util::sync::CancellationToken;

use super::connection::{Answering, Ending, Wire};
use super::server::MockServer;
use crate::transport::BoxFuture;
use crate::transport::websocket::negotiate_subprotocol;

pub(crate) type Sink =
    futures::stream::SplitSink<tokio_tungstenite::WebSocketStream<TcpStream>, Message>;

pub(crate) struct WsWire(pub(crate) tokio::sync::Mutex<Sink>);

impl Wire for WsWire {
    fn send(&self, bytes: Vec<u8>, _framed: bool) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let message = match String::from_utf8(bytes) {
                Ok(text) => Message::Text(Utf8Bytes::from(text)),
                Err(e) => Message::Binary(Bytes::from(e.into_bytes())),
            };
            let _ = self.0.lock().await.send(message).await;
        })
    }

    fn ws_close(&self, code: u16, reason: String) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let frame = CloseFrame {
                code: CloseCode::from(code),
                reason: Utf8Bytes::from(reason),
            };
            let _ = self.0.lock().await.send(Message::Close(Some(frame))).await;
        })
    }
}

/// Accepts connections until `stop`; each is served by `server`.
pub(super) async fn listen(
    server: Arc<MockServer>,
) -> std::io::Result<(u16, tokio::task::JoinHandle<()>, CancellationToken)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    let cut_all = CancellationToken::new();
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                biased;
                () = stopped.cancelled() => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    if server.is_down() {
                        drop(stream); // a killed server: the connection ends at once
                        continue;
                    }
                    crate::util::reap(&mut connections);
                    connections.spawn(serve(server.clone(), stream, cut_all.clone()));
                }
            }
        }
        // Let connections the client is closing end on their own (their transcript says so),
        // then cut the rest.
        let drained = async { while connections.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), drained).await;
        cut_all.cancel();
        connections.shutdown().await;
    });
    Ok((port, task, stop))
}

async fn serve(server: Arc<MockServer>, stream: TcpStream, stop: CancellationToken) {
    #[expect(clippy::result_large_err, reason = "tungstenite's callback signature")]
    let callback = |request: &Request, mut response: Response| {
        negotiate_subprotocol(request, &mut response);
        Ok(response)
    };
    let Ok(socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    let (sink, mut stream) = socket.split();
    let wire = Arc::new(WsWire(tokio::sync::Mutex::new(sink)));
    let mut connection = Answering::open(server.clone(), wire, Ending::default()).await;
    let cut = connection.cut();
    let mut generation = server.generation();
    generation.mark_unchanged();
    let why = loop {
        tokio::select! {
            biased;
            () = cut.cancelled() => break None,
            () = stop.cancelled() => break Some("server stopped"),
            _ = generation.changed() => break Some("killed"),
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => connection.answer(text.as_bytes()),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break Some("closed by the client"),
                Some(Ok(_)) => {}
            }
        }
    };
    connection.close(why).await;
    // Dropping the socket without a close frame: a crash looks like a reset.
}
