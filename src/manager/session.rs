//! One live MCP session: the rmcp client, the resource (process, socket) behind it, and the
//! count of calls using it, so that a retired session closes only when its last call ends.

use std::sync::Mutex;
use std::time::Duration;

use rmcp::model::{ClientConfig, ClientRequest};
use rmcp::service::{ClientCacheConfig, RoleClient, RunningService};

use crate::config::HealthCheck;
use crate::transport::SessionResource;
use crate::transport::server_requests::Dropped;
use crate::util::lock;

pub(crate) type Client = RunningService<RoleClient, ClientConfig>;

pub(crate) struct Session {
    /// Sequence number within the manager, for logs.
    pub(crate) id: u64,
    /// The cattackle's name.
    pub(crate) cattackle: String,
    /// [`crate::config::TransportConfig::fingerprint`] of the configuration it was opened for.
    pub(crate) fingerprint: u64,
    client: Client,
    resource: Mutex<Option<Box<dyn SessionResource>>>,
    pid: Option<u32>,
    usage: Mutex<Usage>,
    ended: tokio::sync::watch::Sender<bool>,
    /// The server's own requests dropped past the bound.
    dropped: Dropped,
}

/// Who uses a session, and whether it is retired.
#[derive(Default)]
struct Usage {
    in_flight: usize,
    retired: Option<Retirement>,
    /// When a call last stopped using it (or it opened), for `idle_timeout` and keep-alive.
    last_used: Option<tokio::time::Instant>,
}

/// Why and how a retired session is to be closed.
#[derive(Clone, Debug)]
pub(crate) struct Retirement {
    /// Why it was retired: `call timed out`, `transport closed`, …
    pub(crate) reason: &'static str,
    /// How long the resource gets to end by itself once closed.
    pub(crate) grace: Duration,
    /// The last call timed out: the other end is busy and will not act on an end of input.
    pub(crate) busy: bool,
    /// Calls were still in flight when it was retired (they finish there, then it closes).
    pub(crate) drained: bool,
    closing: bool,
}

/// What [`Session::retire`] found.
pub(crate) enum Retired {
    /// Already retired by someone else: nothing to do.
    Already,
    /// Nobody uses it: close it now.
    CloseNow(Retirement),
    /// Calls are in flight on it: it closes when the last one ends.
    Draining {
        /// How many.
        in_flight: usize,
    },
}

impl Retirement {
    pub(crate) fn new(reason: &'static str, grace: Duration) -> Self {
        Self {
            reason,
            grace,
            busy: false,
            drained: false,
            closing: false,
        }
    }

    pub(crate) fn busy(mut self, busy: bool) -> Self {
        self.busy = busy;
        self
    }
}

impl Session {
    pub(crate) async fn new(
        id: u64,
        cattackle: String,
        fingerprint: u64,
        client: Client,
        resource: Box<dyn SessionResource>,
        dropped: Dropped,
    ) -> Self {
        // Health probes must see the server, never a cached answer.
        client
            .peer()
            .set_response_cache_config(ClientCacheConfig::disabled())
            .await;
        Self {
            id,
            cattackle,
            fingerprint,
            pid: resource.pid(),
            client,
            resource: Mutex::new(Some(resource)),
            usage: Mutex::new(Usage {
                last_used: Some(tokio::time::Instant::now()),
                ..Usage::default()
            }),
            ended: tokio::sync::watch::Sender::new(false),
            dropped,
        }
    }

    /// How many of the server's own requests were dropped past the bound so far.
    pub(crate) fn server_requests_dropped(&self) -> u64 {
        self.dropped.count()
    }

    pub(crate) fn peer(&self) -> &rmcp::Peer<RoleClient> {
        self.client.peer()
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The protocol version the handshake settled on.
    pub(crate) fn protocol_version(&self) -> Option<String> {
        self.client
            .peer()
            .peer_info()
            .map(|info| info.protocol_version.to_string())
    }

    fn is_stateless_era(&self) -> bool {
        self.client
            .peer()
            .peer_info()
            .is_some_and(|info| !info.protocol_version.has_initialize())
    }

    /// Why the connection ended, when the resource knows (a WebSocket close frame or error).
    /// Read under the lock: the resource never leaves the session, so a concurrent shutdown
    /// always finds it.
    pub(crate) fn close_reason(&self) -> Option<String> {
        lock(&self.resource).as_ref().and_then(|r| r.close_reason())
    }

    /// Cheap liveness: the transport is open and the resource alive.
    pub(crate) fn is_alive(&self) -> bool {
        if self.client.peer().is_transport_closed() {
            return false;
        }
        lock(&self.resource).as_ref().is_some_and(|r| r.is_alive())
    }

    /// A call starts using the session.
    pub(crate) fn acquire(&self) {
        lock(&self.usage).in_flight += 1;
    }

    /// Since when nobody has used it (its last call ended, or it opened): `None` while calls
    /// are in flight, or once it is retired.
    pub(crate) fn idle_since(&self) -> Option<tokio::time::Instant> {
        let usage = lock(&self.usage);
        if usage.in_flight > 0 || usage.retired.is_some() {
            return None;
        }
        Some(usage.last_used.unwrap_or_else(tokio::time::Instant::now))
    }

    /// Whether it is retired (no new call starts on it).
    pub(crate) fn is_retired(&self) -> bool {
        lock(&self.usage).retired.is_some()
    }

    /// A call stops using the session: when it was the last one on a retired session, the
    /// retirement to carry out now.
    pub(crate) fn release(&self) -> Option<Retirement> {
        let mut usage = lock(&self.usage);
        usage.in_flight = usage.in_flight.saturating_sub(1);
        usage.last_used = Some(tokio::time::Instant::now());
        if usage.in_flight > 0 {
            return None;
        }
        match &mut usage.retired {
            Some(retired) if !retired.closing => {
                retired.closing = true;
                Some(retired.clone())
            }
            _ => None,
        }
    }

    /// Retires the session: no new call starts on it; it closes once nobody uses it.
    /// `own` is how many of its users belong to the caller (a failing attempt still holds its own).
    pub(crate) fn retire(&self, mut retirement: Retirement, own: usize) -> Retired {
        let mut usage = lock(&self.usage);
        if usage.retired.is_some() {
            return Retired::Already;
        }
        let others = usage.in_flight.saturating_sub(own);
        retirement.drained = others > 0;
        if usage.in_flight == 0 {
            retirement.closing = true;
            usage.retired = Some(retirement.clone());
            return Retired::CloseNow(retirement);
        }
        usage.retired = Some(retirement);
        Retired::Draining { in_flight: others }
    }

    /// Liveness, then the configured round trip, bounded by `bound`.
    pub(crate) async fn is_healthy(&self, check: HealthCheck, bound: Duration) -> bool {
        if !self.is_alive() {
            return false;
        }
        let peer = self.peer();
        let probe = async {
            match check {
                HealthCheck::Liveness => true,
                // 2026-07-28 has no `ping`: its cheapest round trip is `server/discover`.
                HealthCheck::Ping if self.is_stateless_era() => {
                    peer.discover(Default::default()).await.is_ok()
                }
                HealthCheck::Ping => peer
                    .send_request(ClientRequest::PingRequest(Default::default()))
                    .await
                    .is_ok(),
                HealthCheck::ToolsList => peer.list_tools(None).await.is_ok(),
            }
        };
        tokio::time::timeout(bound, probe).await.unwrap_or(false)
    }

    /// Closes the transport (a stdio child sees EOF), then ends the resource: it gets `grace` to
    /// exit before its process group is killed. A `busy` one (its last call timed out) is
    /// interrupted at once instead of being left to notice the end of its input.
    pub(crate) async fn shutdown(&self, grace: Duration, busy: bool) {
        self.client.cancellation_token().cancel();
        let resource = lock(&self.resource).take();
        if let Some(resource) = resource {
            if busy {
                resource.interrupt();
            }
            resource.shutdown(grace).await;
        }
        self.ended.send_replace(true);
    }

    /// Waits until [`Self::shutdown`] has finished.
    pub(crate) async fn ended(&self) {
        let mut ended = self.ended.subscribe();
        let _ = ended.wait_for(|ended| *ended).await;
    }

    /// Turns true when the session has ended (for watchers that must not keep it alive).
    pub(crate) fn ended_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.ended.subscribe()
    }
}
