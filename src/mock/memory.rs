//! Serving a [`MockServer`] over newline-delimited bytes: an in-memory pipe (in-process, virtual
//! time) or the stdin/stdout of the `cattackle mock-server` child process.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use super::connection::{Answering, Ending, Wire};
use super::server::MockServer;
use crate::config::CattackleConfig;
use crate::transport::{
    BoxFuture, ConnectError, Connection, Connector, SessionResource, TransportIo,
};
use crate::util::lock;

/// Buffer of each in-memory pipe.
const PIPE_BYTES: usize = 1 << 20;

/// How long a terminated mock keeps reading what the client had already written.
const DRAIN_IDLE: Duration = Duration::from_millis(50);

/// Serves one connection over `read`/`write` until either side closes it, or `terminate`
/// fires (a child mock's SIGTERM): then it still reads what was already written to it, so the
/// transcript never depends on how fast it read. Requests are answered concurrently, as real
/// servers do: a delayed answer does not hold up the next request.
pub async fn serve_bytes<R, W>(
    server: Arc<MockServer>,
    read: R,
    write: W,
    ending: Ending,
    terminate: impl std::future::Future<Output = ()>,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let wire = Arc::new(ByteWire(tokio::sync::Mutex::new(write)));
    let mut connection = Answering::open(server.clone(), wire.clone(), ending).await;
    let cut = connection.cut();
    let mut generation = server.generation();
    generation.mark_unchanged();
    let mut lines = BufReader::new(read);
    let mut terminate = std::pin::pin!(terminate);
    let why = loop {
        let mut line = Vec::new();
        tokio::select! {
            biased;
            () = cut.cancelled() => break None,
            _ = generation.changed() => break Some("killed"),
            () = &mut terminate => {
                loop {
                    let mut line = Vec::new();
                    match tokio::time::timeout(DRAIN_IDLE, lines.read_until(b'\n', &mut line)).await {
                        Ok(Ok(n)) if n > 0 => connection.answer(&line),
                        _ => break,
                    }
                }
                // The client stops a busy child with SIGTERM and an end of input, in an order
                // the child cannot observe: both read as the client closing.
                break Some("closed by the client");
            }
            read = lines.read_until(b'\n', &mut line) => match read {
                Ok(0) | Err(_) => break Some("closed by the client"),
                Ok(_) => connection.answer(&line),
            }
        }
    };
    connection.close(why).await;
    let _ = wire.0.lock().await.shutdown().await;
}

/// Writes to a byte stream; messages get a newline.
pub(crate) struct ByteWire<W>(pub(crate) tokio::sync::Mutex<W>);

impl<W: AsyncWrite + Unpin + Send> Wire for ByteWire<W> {
    fn send(&self, mut bytes: Vec<u8>, framed: bool) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if framed {
                bytes.push(b'\n');
            }
            let mut w = self.0.lock().await;
            let _ = w.write_all(&bytes).await;
            let _ = w.flush().await;
        })
    }
}

/// What stands behind an in-memory mock session: it is gone once the mock "exits".
#[derive(Debug, Default)]
pub struct MockResource {
    ending: Ending,
}

impl SessionResource for MockResource {
    fn is_alive(&self) -> bool {
        !self.ending.gone.load(Ordering::SeqCst)
    }

    fn failure_context(&self, _settle: Duration) -> BoxFuture<'_, Option<String>> {
        let code = *lock(&self.ending.exit_code);
        Box::pin(async move { code.map(|c| format!("the mock exited with code {c}")) })
    }

    fn shutdown(self: Box<Self>, _grace: Duration) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }

    fn close_reason(&self) -> Option<String> {
        lock(&self.ending.exit_code).map(|c| format!("the mock exited with code {c}"))
    }
}

/// Connects each session to `server` over a fresh in-memory pipe.
pub struct MemoryMock {
    server: Arc<MockServer>,
}

impl MemoryMock {
    /// A connector for `server`.
    pub fn new(server: Arc<MockServer>) -> Self {
        Self { server }
    }
}

impl Connector for MemoryMock {
    fn connect<'a>(
        &'a self,
        _config: &'a CattackleConfig,
    ) -> BoxFuture<'a, Result<Connection, ConnectError>> {
        Box::pin(async move {
            if self.server.is_down() {
                return Err(ConnectError::Other(
                    "the mock server is down (killed by a step)".to_owned(),
                ));
            }
            let (client, server_end) = tokio::io::duplex(PIPE_BYTES);
            let ending = Ending::default();
            let (read, write) = tokio::io::split(server_end);
            tokio::spawn(serve_bytes(
                self.server.clone(),
                read,
                write,
                ending.clone(),
                std::future::pending(),
            ));
            let (read, write) = tokio::io::split(client);
            Ok(Connection {
                io: TransportIo::Bytes {
                    read: Box::new(read),
                    write: Box::new(write),
                },
                resource: Box::new(MockResource { ending }),
            })
        })
    }
}
