//! One live MCP session: the rmcp client and the resource (process, socket) behind it.

use std::sync::Mutex;
use std::time::Duration;

use rmcp::model::{
    ClientCapabilities, ClientConfig, ClientRequest, Implementation, ProtocolVersion,
};
use rmcp::service::{
    ClientCacheConfig, ClientInitializeError, ClientLifecycleMode, ClientServiceExt, RoleClient,
    RunningService,
};
use rmcp::transport::IntoTransport;

use crate::config::{HealthCheck, Protocol};
use crate::transport::{SessionResource, TransportIo};

/// The identity this manager gives in the handshake, and how the handshake goes for `protocol`.
fn lifecycle(protocol: Protocol) -> (ClientConfig, ClientLifecycleMode) {
    let mut info = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("cattackle-harness", env!("CARGO_PKG_VERSION")),
    );
    let modern = || vec![ProtocolVersion::V_2026_07_28];
    let mode = match protocol {
        Protocol::V2025_11_25 => {
            info.protocol_version = ProtocolVersion::V_2025_11_25;
            ClientLifecycleMode::Initialize
        }
        Protocol::V2025_06_18 => {
            info.protocol_version = ProtocolVersion::V_2025_06_18;
            ClientLifecycleMode::Initialize
        }
        Protocol::V2026_07_28 => ClientLifecycleMode::Discover {
            preferred_versions: modern(),
        },
        Protocol::Auto => ClientLifecycleMode::Auto {
            preferred_versions: modern(),
            legacy_version: Some(ProtocolVersion::V_2025_11_25),
        },
    };
    (info, mode)
}

pub(crate) type Client = RunningService<RoleClient, ClientConfig>;

/// The MCP handshake of `protocol` over any of the wire kinds.
pub(crate) async fn handshake(
    io: TransportIo,
    protocol: Protocol,
    max_message_size: usize,
) -> Result<Client, ClientInitializeError> {
    match io {
        TransportIo::Bytes { read, write } => {
            let read = crate::transport::LineLimit::new(read, max_message_size);
            serve((read, write), protocol).await
        }
        TransportIo::Messages { sink, stream } => serve((sink, stream), protocol).await,
        TransportIo::Http(transport) => serve(transport, protocol).await,
    }
}

async fn serve<T, E, A>(transport: T, protocol: Protocol) -> Result<Client, ClientInitializeError>
where
    T: IntoTransport<RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let (info, mode) = lifecycle(protocol);
    info.serve_with_lifecycle(transport, mode).await
}

pub(crate) struct Session {
    /// Sequence number within the manager, for logs.
    pub(crate) id: u64,
    /// [`crate::config::TransportConfig::fingerprint`] of the configuration it was opened for.
    pub(crate) fingerprint: u64,
    client: Client,
    resource: Mutex<Option<Box<dyn SessionResource>>>,
    pid: Option<u32>,
}

impl Session {
    pub(crate) async fn new(
        id: u64,
        fingerprint: u64,
        client: Client,
        resource: Box<dyn SessionResource>,
    ) -> Self {
        // Health probes must see the server, never a cached answer.
        client
            .peer()
            .set_response_cache_config(ClientCacheConfig::disabled())
            .await;
        Self {
            id,
            fingerprint,
            pid: resource.pid(),
            client,
            resource: Mutex::new(Some(resource)),
        }
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
        let resource = self.resource.lock().unwrap_or_else(|e| e.into_inner());
        resource.as_ref().and_then(|r| r.close_reason())
    }

    /// Cheap liveness: the transport is open and the resource alive.
    pub(crate) fn is_alive(&self) -> bool {
        if self.client.peer().is_transport_closed() {
            return false;
        }
        let resource = self.resource.lock().unwrap_or_else(|e| e.into_inner());
        resource.as_ref().is_some_and(|r| r.is_alive())
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
    /// exit before its process group is killed.
    pub(crate) async fn shutdown(&self, grace: Duration) {
        self.client.cancellation_token().cancel();
        let resource = self
            .resource
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(resource) = resource {
            resource.shutdown(grace).await;
        }
    }
}
