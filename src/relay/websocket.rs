//! The WebSocket relay: a proxy on 127.0.0.1 in front of a real WebSocket server. It opens the
//! real socket first (so a server that is down refuses the client, as it would directly), then
//! passes every frame on, reading the JSON-RPC in text frames through the [`Tap`].

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_util::sync::CancellationToken;

use super::tap::{Faults, Tap};
use crate::config::SecretMap;
use crate::journal::{Journal, What};
use crate::mock::{Book, Ending, Flavor, Setting, Wire, WsWire, run_plan};
use crate::scenario::model::Fault;
use crate::transport::websocket::{SUBPROTOCOL, open_raw};

/// How long connections the client is closing get to end on their own when the proxy stops.
const DRAIN: Duration = Duration::from_secs(1);

/// Where the proxy sends what it accepts.
pub struct Upstream {
    /// The real server's URL.
    pub url: String,
    /// The headers of the upgrade request (the configuration's).
    pub headers: SecretMap,
    /// The client's `max_message_size`.
    pub max_message_size: usize,
    /// The process group a `crash` kills (the launched server's), 0 for none.
    pub pid: Arc<AtomicU32>,
}

/// A running WebSocket relay.
pub struct WsRelay {
    port: u16,
    task: tokio::task::JoinHandle<()>,
    stop: CancellationToken,
}

impl WsRelay {
    /// Listens on a free port of 127.0.0.1, relaying to `upstream` with `faults` (drawn with
    /// `seed`), recording to `journal`.
    pub async fn start(
        upstream: Upstream,
        faults: Vec<Fault>,
        seed: u64,
        journal: Arc<Journal>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let faults = Arc::new(Faults {
            book: Mutex::new(Book::new(faults.len(), seed)),
            list: faults,
            setting: Setting {
                flavor: Flavor::Messages,
                max_message_size: upstream.max_message_size,
            },
        });
        let stop = CancellationToken::new();
        let task = tokio::spawn(accept(
            listener,
            Arc::new(upstream),
            faults,
            journal,
            stop.clone(),
        ));
        Ok(Self { port, task, stop })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops listening; connections still open are given a moment, then cut.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

async fn accept(
    listener: TcpListener,
    upstream: Arc<Upstream>,
    faults: Arc<Faults>,
    journal: Arc<Journal>,
    stop: CancellationToken,
) {
    let next_conn = AtomicU64::new(0);
    let cut_all = CancellationToken::new();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                // Without it, Nagle's algorithm and the client's delayed ACK may hold a small
                // answer written in pieces back about 40 ms.
                let _ = stream.set_nodelay(true);
                let conn = next_conn.fetch_add(1, Ordering::SeqCst) + 1;
                crate::util::reap(&mut connections);
                connections.spawn(relay(
                    stream,
                    upstream.clone(),
                    Tap::open(journal.clone(), faults.clone(), conn),
                    cut_all.clone(),
                ));
            }
        }
    }
    let drained = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(DRAIN, drained).await;
    cut_all.cancel();
    connections.shutdown().await;
}

/// Opens the real socket, asking for subprotocol `mcp` (again without it if refused).
async fn open_upstream(
    upstream: &Upstream,
) -> Result<(crate::transport::websocket::ClientSocket, bool), String> {
    let open = |subprotocol| {
        open_raw(
            &upstream.url,
            &upstream.headers,
            upstream.max_message_size,
            subprotocol,
        )
    };
    match open(true).await {
        Ok((socket, answered)) => Ok((socket, answered.is_some())),
        Err(_) => open(false)
            .await
            .map(|(socket, _)| (socket, false))
            .map_err(|e| e.to_string()),
    }
}

/// Carries one connection until either side closes it or a fault cuts it.
async fn relay(
    stream: TcpStream,
    upstream: Arc<Upstream>,
    (tap, early): (Tap, Option<Vec<crate::mock::Out>>),
    stop: CancellationToken,
) {
    let tap = Arc::new(tap);
    let (real, subprotocol) = match open_upstream(&upstream).await {
        Ok(opened) => opened,
        Err(e) => {
            // Refused as the real server refused: the client's upgrade gets no answer.
            let why = format!(
                "the real server refused: {}",
                tap.journal().redactor().apply(&e)
            );
            tap.journal().server_closed(tap.conn(), &why);
            return;
        }
    };
    #[expect(clippy::result_large_err, reason = "tungstenite's callback signature")]
    let callback = |_: &Request, mut response: Response| {
        if subprotocol {
            response.headers_mut().insert(
                "sec-websocket-protocol",
                http::HeaderValue::from_static(SUBPROTOCOL),
            );
        }
        Ok(response)
    };
    let Ok(client) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        tap.journal()
            .server_closed(tap.conn(), "the client's upgrade failed");
        return;
    };
    let (to_client, mut from_client) = client.split();
    let (mut to_real, mut from_real) = real.split();
    let wire = Arc::new(WsWire(tokio::sync::Mutex::new(to_client)));
    let cut = CancellationToken::new();
    let ending = Ending::default();
    if let Some(plan) = early {
        run_plan(tap.journal(), tap.conn(), plan, &*wire, &cut, &ending).await;
    }
    let mut plans = tokio::task::JoinSet::new();
    let why = loop {
        if cut.is_cancelled() {
            break None;
        }
        tokio::select! {
            biased;
            () = cut.cancelled() => break None,
            () = stop.cancelled() => break Some("the relay stopped".to_owned()),
            message = from_client.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    tap.client_sent(text.as_bytes());
                    if to_real.send(Message::Text(text)).await.is_err() {
                        break Some("the real server's socket broke".to_owned());
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    let _ = to_real.send(Message::Close(frame)).await;
                    break Some("closed by the client".to_owned());
                }
                None | Some(Err(_)) => break Some("closed by the client".to_owned()),
                Some(Ok(other)) => {
                    let _ = to_real.send(other).await;
                }
            },
            message = from_real.next() => match message {
                Some(Ok(Message::Text(text))) => match tap.server_sent(text.as_bytes()) {
                    None => {
                        tap.journal().sent(tap.conn(), text.as_bytes());
                        wire.send(text.as_bytes().to_vec(), true).await;
                    }
                    Some(plan) => {
                        let (tap, wire, cut, ending) =
                            (tap.clone(), wire.clone(), cut.clone(), ending.clone());
                        crate::util::reap(&mut plans);
                        plans.spawn(async move {
                            run_plan(tap.journal(), tap.conn(), plan, &*wire, &cut, &ending).await;
                        });
                    }
                },
                Some(Ok(Message::Close(frame))) => {
                    let code = frame.as_ref().map_or(1005, |f| u16::from(f.code));
                    let _ = wire.0.lock().await.send(Message::Close(frame)).await;
                    break Some(format!("the real server closed the socket ({code})"));
                }
                None | Some(Err(_)) => break Some("the real server's socket ended".to_owned()),
                Some(Ok(other)) => {
                    let _ = wire.0.lock().await.send(other).await;
                }
            },
        }
    };
    if let Some(why) = why {
        tap.journal().server_closed(tap.conn(), &why);
    }
    cut.cancel();
    plans.shutdown().await;
    if ending.exit_code().is_some() {
        let pid = upstream.pid.load(Ordering::SeqCst);
        if let Ok(group) = i32::try_from(pid)
            && group > 0
        {
            // SAFETY: killpg has no memory-safety preconditions.
            unsafe {
                libc::killpg(group, libc::SIGKILL);
            }
            tap.journal().record_conn(
                tap.conn(),
                What::Server("killed the real server (SIGKILL)".to_owned()),
            );
        }
    }
    // Dropping both sockets without a close frame: a cut looks like a reset to the client.
}
