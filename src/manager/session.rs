//! One live MCP session: the rmcp client and the resource (process, socket) behind it.

use std::sync::Mutex;
use std::time::Duration;

use rmcp::model::{ClientCapabilities, ClientConfig, ClientRequest, Implementation};
use rmcp::service::{ClientCacheConfig, RoleClient, RunningService};

use crate::config::HealthCheck;
use crate::transport::SessionResource;

/// The identity this manager gives in the handshake.
pub(crate) fn client_info() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("cattackle-harness", env!("CARGO_PKG_VERSION")),
    )
}

pub(crate) struct Session {
    /// Sequence number within the manager, for logs.
    pub(crate) id: u64,
    /// [`crate::config::TransportConfig::fingerprint`] of the configuration it was opened for.
    pub(crate) fingerprint: u64,
    client: RunningService<RoleClient, ClientConfig>,
    resource: Mutex<Option<Box<dyn SessionResource>>>,
    pid: Option<u32>,
}

impl Session {
    pub(crate) async fn new(
        id: u64,
        fingerprint: u64,
        client: RunningService<RoleClient, ClientConfig>,
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
