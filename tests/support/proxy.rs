//! A TCP proxy on 127.0.0.1 that counts connections, records what clients send (so headers and
//! requests are checked server-side), and can cut every connection or switch its upstream.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

const RECORD_LIMIT: usize = 4 << 20;

pub struct Proxy {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    accept: AbortHandle,
}

struct Inner {
    upstream: Mutex<SocketAddr>,
    accepted: AtomicUsize,
    sent: Mutex<Vec<u8>>,
    relays: Mutex<Vec<AbortHandle>>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let inner = Arc::new(Inner {
            upstream: Mutex::new(upstream),
            accepted: AtomicUsize::new(0),
            sent: Mutex::new(Vec::new()),
            relays: Mutex::new(Vec::new()),
        });
        let shared = inner.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                let upstream = *shared.upstream.lock().unwrap();
                let recorder = shared.clone();
                let relay = tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        relay(client, server, recorder).await;
                    }
                });
                shared.relays.lock().unwrap().push(relay.abort_handle());
            }
        })
        .abort_handle();
        Self {
            addr,
            inner,
            accept,
        }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.inner.accepted.load(Ordering::SeqCst)
    }

    /// Everything clients sent, as text.
    pub fn client_bytes(&self) -> String {
        String::from_utf8_lossy(&self.inner.sent.lock().unwrap()).into_owned()
    }

    /// Cuts every open connection at once, as a crashed server would.
    pub fn cut_all(&self) {
        for relay in self.inner.relays.lock().unwrap().drain(..) {
            relay.abort();
        }
    }

    /// New connections go to `upstream` (a restarted server).
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *self.inner.upstream.lock().unwrap() = upstream;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut_all();
    }
}

async fn relay(client: TcpStream, server: TcpStream, inner: Arc<Inner>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upward = async {
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n @ 1..) = client_read.read(&mut buf).await {
            {
                let mut sent = inner.sent.lock().unwrap();
                if sent.len() < RECORD_LIMIT {
                    sent.extend_from_slice(&buf[..n]);
                }
            }
            if server_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = server_write.shutdown().await;
    };
    let downward = async {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    tokio::join!(upward, downward);
}
