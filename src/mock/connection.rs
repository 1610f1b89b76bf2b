//! Carrying out a plan ([`Out`]s) on a connection, whatever its wire.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use super::out::Out;
use super::server::MockServer;
use crate::journal::Journal;
use crate::transport::BoxFuture;
use crate::util::lock;

/// How a connection ended.
#[derive(Clone, Debug, Default)]
pub struct Ending {
    /// Set when the "process" exited or the connection was cut.
    pub gone: Arc<AtomicBool>,
    /// The exit code of a crash.
    pub exit_code: Arc<Mutex<Option<i32>>>,
}

impl Ending {
    /// The exit code of a crash, if the connection ended in one.
    pub fn exit_code(&self) -> Option<i32> {
        *lock(&self.exit_code)
    }
}

/// One connection's way of sending.
pub(crate) trait Wire: Send + Sync {
    /// Sends bytes: a whole message when `framed`, raw bytes otherwise.
    fn send(&self, bytes: Vec<u8>, framed: bool) -> BoxFuture<'_, ()>;

    /// Sends a WebSocket close frame (other wires: nothing).
    fn ws_close(&self, _code: u16, _reason: String) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Carries out `plan`; a `Close` cuts the whole connection (`cut`), and everything stops once
/// it is cut.
pub(crate) async fn run_plan(
    journal: &Journal,
    conn: u64,
    plan: Vec<Out>,
    wire: &dyn Wire,
    cut: &CancellationToken,
    ending: &Ending,
) {
    for out in plan {
        let step = async {
            match out {
                Out::Sleep(d) => tokio::time::sleep(d).await,
                Out::Send(bytes) => {
                    journal.sent(conn, &bytes);
                    wire.send(bytes, true).await;
                }
                Out::Raw(bytes) => {
                    journal.sent(conn, &bytes);
                    wire.send(bytes, false).await;
                }
                Out::Hang => std::future::pending().await,
                Out::Close { exit_code } => {
                    *lock(&ending.exit_code) = exit_code;
                    ending.gone.store(true, Ordering::SeqCst);
                    let why = exit_code.map_or("dropped".to_owned(), |c| format!("exit {c}"));
                    journal.server_closed(conn, &why);
                    cut.cancel();
                }
                Out::WsClose { code, reason } => {
                    wire.ws_close(code, reason).await;
                    ending.gone.store(true, Ordering::SeqCst);
                    journal.server_closed(conn, &format!("close frame {code}"));
                    cut.cancel();
                }
                // HTTP-only answers; the loader refuses them on other transports.
                Out::HttpStatus { .. } | Out::SessionExpired | Out::ContentType(_) => {}
            }
        };
        tokio::select! {
            biased;
            () = cut.cancelled() => return,
            () = step => {}
        }
    }
}

/// Records that connection `conn` ended, and why.
/// One connection being served: answers run concurrently, as real servers do (a delayed answer
/// does not hold up the next request), and all end when the connection is cut.
pub(crate) struct Answering {
    server: Arc<MockServer>,
    conn: u64,
    wire: Arc<dyn Wire>,
    cut: CancellationToken,
    ending: Ending,
    tasks: tokio::task::JoinSet<()>,
}

impl Answering {
    /// Opens connection `conn` on `server`, carrying out any connection fault first.
    pub(crate) async fn open(server: Arc<MockServer>, wire: Arc<dyn Wire>, ending: Ending) -> Self {
        let (conn, early) = server.connect();
        let this = Self {
            server,
            conn,
            wire,
            cut: CancellationToken::new(),
            ending,
            tasks: tokio::task::JoinSet::new(),
        };
        if let Some(plan) = early {
            run_plan(
                this.server.journal(),
                conn,
                plan,
                &*this.wire,
                &this.cut,
                &this.ending,
            )
            .await;
        }
        this
    }

    /// Cancelled when a fault cuts the connection.
    pub(crate) fn cut(&self) -> CancellationToken {
        self.cut.clone()
    }

    /// Answers one incoming message, in the background.
    pub(crate) fn answer(&mut self, message: &[u8]) {
        let plan = self.server.on_message(self.conn, message);
        if plan.is_empty() {
            return;
        }
        let (server, wire, cut, ending) = (
            self.server.clone(),
            self.wire.clone(),
            self.cut.clone(),
            self.ending.clone(),
        );
        let conn = self.conn;
        crate::util::reap(&mut self.tasks);
        self.tasks.spawn(async move {
            run_plan(server.journal(), conn, plan, &*wire, &cut, &ending).await;
        });
    }

    /// Ends the connection; `why` is recorded unless a fault already closed it.
    pub(crate) async fn close(mut self, why: Option<&str>) {
        self.cut.cancel();
        self.tasks.shutdown().await;
        if let Some(why) = why {
            self.ending.gone.store(true, Ordering::SeqCst);
            self.server.closed(self.conn, why);
        }
    }
}
