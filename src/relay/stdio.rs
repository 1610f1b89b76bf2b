//! The stdio relay: the manager talks to an in-memory pipe, and the relay passes each line on
//! to the real child's stdin, and each line of its stdout back, through the [`Tap`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio_util::sync::CancellationToken;

use super::lines::{Chunk, Lines};
use super::tap::{Faults, Tap};
use crate::config::CattackleConfig;
use crate::journal::{Journal, What};
use crate::mock::{Book, ByteWire, Ending, Flavor, Out, Setting, Wire, run_plan};
use crate::scenario::model::Fault;
use crate::transport::{
    BoxFuture, ConnectError, Connection, Connector, SessionResource, TransportIo,
};
use crate::util::lock;

/// Buffer of the in-memory pipe between the manager and the relay.
const PIPE_BYTES: usize = 1 << 20;

/// How long the relay task may take to finish once its session is shut down.
const STOP_WAIT: Duration = Duration::from_secs(1);

/// Reaches real cattackles through `inner`; a stdio connection gets the relay between the
/// manager and the child. Other wires pass through untouched.
pub struct RelayConnector<C> {
    inner: C,
    journal: Arc<Journal>,
    faults: Arc<Faults>,
    next_conn: AtomicU64,
}

impl<C: Connector> RelayConnector<C> {
    /// A relay with `faults` (counted and drawn with `seed`) in front of what `inner` reaches,
    /// recording to `journal`; `max_message_size` is the client's (for `malformed:
    /// oversized`).
    pub fn new(
        inner: C,
        faults: Vec<Fault>,
        seed: u64,
        max_message_size: usize,
        journal: Arc<Journal>,
    ) -> Self {
        let book = Mutex::new(Book::new(faults.len(), seed));
        Self {
            inner,
            journal,
            faults: Arc::new(Faults {
                list: faults,
                book,
                setting: Setting {
                    flavor: Flavor::Bytes,
                    max_message_size,
                },
            }),
            next_conn: AtomicU64::new(0),
        }
    }
}

impl<C: Connector> Connector for RelayConnector<C> {
    fn connect<'a>(
        &'a self,
        config: &'a CattackleConfig,
    ) -> BoxFuture<'a, Result<Connection, ConnectError>> {
        Box::pin(async move {
            let connection = self.inner.connect(config).await?;
            let Connection { io, resource } = connection;
            let TransportIo::Bytes { read, write } = io else {
                return Ok(Connection { io, resource });
            };
            let conn = self.next_conn.fetch_add(1, Ordering::SeqCst) + 1;
            let (tap, early) = Tap::open(self.journal.clone(), self.faults.clone(), conn);
            let (client, relay_end) = tokio::io::duplex(PIPE_BYTES);
            let ending = Ending::default();
            let cut = CancellationToken::new();
            let limit = self.faults.setting.max_message_size.saturating_add(1024);
            let task = tokio::spawn(relay(
                Arc::new(tap),
                early,
                Child {
                    read,
                    write,
                    pid: resource.pid(),
                },
                relay_end,
                cut.clone(),
                ending.clone(),
                limit,
            ));
            let (read, write) = tokio::io::split(client);
            Ok(Connection {
                io: TransportIo::Bytes {
                    read: Box::new(read),
                    write: Box::new(write),
                },
                resource: Box::new(Relayed {
                    inner: resource,
                    ending,
                    cut,
                    task: Mutex::new(Some(task)),
                }),
            })
        })
    }
}

/// The real child's pipes and process group.
struct Child {
    read: Box<dyn AsyncRead + Send + Unpin>,
    write: Box<dyn AsyncWrite + Send + Unpin>,
    pid: Option<u32>,
}

/// Carries one connection until either side ends it, or a fault cuts it (a `crash` kills
/// the child's process group).
#[allow(clippy::too_many_arguments)]
async fn relay(
    tap: Arc<Tap>,
    early: Option<Vec<Out>>,
    child: Child,
    manager: tokio::io::DuplexStream,
    cut: CancellationToken,
    ending: Ending,
    limit: usize,
) {
    let (from_manager, to_manager) = tokio::io::split(manager);
    let to_manager = Arc::new(ByteWire(tokio::sync::Mutex::new(to_manager)));
    let Child { read, write, pid } = child;
    let carry = async {
        if let Some(plan) = early {
            run_plan(tap.journal(), tap.conn(), plan, &*to_manager, &cut, &ending).await;
            if cut.is_cancelled() {
                // Cut before anything was read: nothing of the client's is relayed.
                std::future::pending::<()>().await;
            }
        }
        tokio::select! {
            why = upstream(&tap, from_manager, write, limit) => why,
            why = downstream(&tap, read, to_manager.clone(), &cut, &ending, limit) => why,
        }
    };
    let why = tokio::select! {
        biased;
        () = cut.cancelled() => None,
        why = carry => Some(why),
    };
    if let Some(why) = why {
        tap.journal().server_closed(tap.conn(), why);
    }
    if ending.exit_code().is_some() {
        kill_group(pid, tap.journal(), tap.conn());
    }
    let _ = to_manager.0.lock().await.shutdown().await;
}

/// The manager's lines, recorded and passed on to the child; returns when the manager closes.
async fn upstream(
    tap: &Tap,
    from_manager: tokio::io::ReadHalf<tokio::io::DuplexStream>,
    mut to_child: Box<dyn AsyncWrite + Send + Unpin>,
    limit: usize,
) -> &'static str {
    let mut lines = Lines::new(BufReader::new(from_manager), limit);
    loop {
        let bytes = match lines.next().await {
            Ok(Chunk::Line(line)) => {
                tap.client_sent(&line);
                line
            }
            Ok(Chunk::Part(part)) => part,
            Ok(Chunk::End) | Err(_) => {
                let _ = to_child.shutdown().await;
                return "closed by the client";
            }
        };
        if to_child.write_all(&bytes).await.is_err() || to_child.flush().await.is_err() {
            return "the server's stdin broke";
        }
    }
}

/// The child's lines, each passed on or replaced by a fault's plan (carried out in the
/// background, so that a delayed answer does not hold up the next); returns when the child
/// closes its stdout and the plans in progress are done.
async fn downstream(
    tap: &Arc<Tap>,
    from_child: Box<dyn AsyncRead + Send + Unpin>,
    to_manager: Arc<ByteWire<tokio::io::WriteHalf<tokio::io::DuplexStream>>>,
    cut: &CancellationToken,
    ending: &Ending,
    limit: usize,
) -> &'static str {
    let mut lines = Lines::new(BufReader::new(from_child), limit);
    let mut plans = tokio::task::JoinSet::new();
    loop {
        match lines.next().await {
            Ok(Chunk::Line(line)) => match tap.server_sent(&line) {
                None => {
                    tap.journal().sent(tap.conn(), &line);
                    to_manager.send(line, false).await;
                }
                Some(plan) => {
                    let (tap, wire, cut, ending) =
                        (tap.clone(), to_manager.clone(), cut.clone(), ending.clone());
                    crate::util::reap(&mut plans);
                    plans.spawn(async move {
                        run_plan(tap.journal(), tap.conn(), plan, &*wire, &cut, &ending).await;
                    });
                }
            },
            Ok(Chunk::Part(part)) => to_manager.send(part, false).await,
            Ok(Chunk::End) | Err(_) => {
                while plans.join_next().await.is_some() {}
                return "the server closed its stdout";
            }
        }
    }
}

/// Kills the real child's process group (a `crash` fault).
fn kill_group(pid: Option<u32>, journal: &Journal, conn: u64) {
    let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) else {
        return;
    };
    // The child leads its own process group: kill the group, grandchildren included.
    // SAFETY: killpg has no memory-safety preconditions.
    unsafe {
        libc::killpg(pid, libc::SIGKILL);
    }
    journal.record_conn(
        conn,
        What::Server("killed the real server (SIGKILL)".to_owned()),
    );
}

/// The real child, seen through the relay: gone once a fault cut the connection.
struct Relayed {
    inner: Box<dyn SessionResource>,
    ending: Ending,
    cut: CancellationToken,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl SessionResource for Relayed {
    fn is_alive(&self) -> bool {
        !self.ending.gone.load(Ordering::SeqCst) && self.inner.is_alive()
    }

    fn failure_context(&self, settle: Duration) -> BoxFuture<'_, Option<String>> {
        self.inner.failure_context(settle)
    }

    fn shutdown(self: Box<Self>, grace: Duration) -> BoxFuture<'static, ()> {
        let Self {
            inner, cut, task, ..
        } = *self;
        let task = lock(&task).take();
        Box::pin(async move {
            inner.shutdown(grace).await;
            cut.cancel();
            if let Some(mut task) = task
                && tokio::time::timeout(STOP_WAIT, &mut task).await.is_err()
            {
                task.abort();
            }
        })
    }

    fn interrupt(&self) {
        self.inner.interrupt();
    }

    fn close_reason(&self) -> Option<String> {
        self.inner.close_reason()
    }

    fn pid(&self) -> Option<u32> {
        self.inner.pid()
    }
}
