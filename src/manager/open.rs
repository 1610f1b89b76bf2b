//! Opening a session: spawn or connect, then the MCP handshake of the configured era, all
//! bounded by `connect_timeout`.

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{ClientCapabilities, ClientConfig, Implementation, ProtocolVersion};
use rmcp::service::{ClientInitializeError, ClientLifecycleMode, ClientServiceExt, RoleClient};
use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::transport::sink_stream::SinkStreamTransport;
use tokio::time::{Instant, timeout_at};

use super::error::{describe_init, redacted};
use super::session::Client;
use super::{CattackleError, Phase};
use crate::config::{CattackleConfig, Protocol};
use crate::transport::server_requests::{self, Dropped};
use crate::transport::{
    BoxFuture, ConnectError, Connection, Connector, SessionResource, TransportIo,
};
use crate::util::saturating_add;

/// A connection with its handshake done.
pub(super) struct Started {
    pub(super) client: Client,
    pub(super) resource: Box<dyn SessionResource>,
    /// The server requests the session dropped past the bound.
    pub(super) dropped: Dropped,
}

/// Why a start failed, and whether the `auto` era may try `initialize` instead.
struct StartError {
    error: CattackleError,
    /// The connection was made but its handshake did not succeed: with `auto`, a fresh
    /// connection and `initialize` may still work.
    handshake: bool,
}

/// Spawns or connects, then does the MCP handshake, all within `connect_timeout`.
///
/// With `protocol = "auto"`, `server/discover` gets half of that time. Whenever it is not
/// answered with a valid discover result (no answer, an error, an empty `{}` result, a
/// connection the server ends), a fresh connection does `initialize` with what is left.
pub(super) async fn open(
    connector: &dyn Connector,
    config: &CattackleConfig,
    background: &tokio_util::task::TaskTracker,
) -> Result<Started, CattackleError> {
    let start = Instant::now();
    let deadline = saturating_add(start, config.mcp.connect_timeout);
    let started = match config.mcp.protocol {
        Protocol::Auto => {
            let probe_deadline = saturating_add(start, config.mcp.connect_timeout / 2);
            match one_start(
                connector,
                config,
                Protocol::Auto,
                probe_deadline,
                background,
            )
            .await
            {
                Err(StartError {
                    handshake: true,
                    error,
                }) => {
                    tracing::info!(
                        cattackle = %config.name,
                        "server/discover was not answered with a discover result ({}): falling back to initialize",
                        error.summary()
                    );
                    one_start(
                        connector,
                        config,
                        Protocol::V2025_11_25,
                        deadline,
                        background,
                    )
                    .await
                }
                other => other,
            }
        }
        protocol => one_start(connector, config, protocol, deadline, background).await,
    };
    started.map_err(|e| e.error)
}

/// One connection and handshake, bounded by `deadline`. A failed start's resource is shut down
/// in `background`.
async fn one_start(
    connector: &dyn Connector,
    config: &CattackleConfig,
    protocol: Protocol,
    deadline: Instant,
    background: &tokio_util::task::TaskTracker,
) -> Result<Started, StartError> {
    let name = config.name.as_str();
    let timed_out = |phase, context| CattackleError::TimedOut {
        cattackle: name.to_owned(),
        phase,
        after: config.mcp.connect_timeout,
        context,
    };
    let Connection { io, resource } = match timeout_at(deadline, connector.connect(config)).await {
        Err(_) => {
            return Err(StartError {
                error: timed_out(Phase::Connect, None),
                handshake: false,
            });
        }
        Ok(Err(ConnectError::Config(reason))) => {
            return Err(StartError {
                error: CattackleError::Misconfigured {
                    cattackle: name.to_owned(),
                    reason,
                },
                handshake: false,
            });
        }
        Ok(Err(e)) => {
            return Err(StartError {
                error: CattackleError::NotSent {
                    cattackle: name.to_owned(),
                    reason: e.to_string(),
                    context: None,
                },
                handshake: false,
            });
        }
        Ok(Ok(connection)) => connection,
    };
    let (io, resource) = crate::transport::bounded(io, resource, config.mcp.max_message_size);
    let handshake = handshake(io, protocol, name.into());
    let error = match timeout_at(deadline, handshake).await {
        Ok(Ok((client, dropped))) => {
            return Ok(Started {
                client,
                resource,
                dropped,
            });
        }
        Ok(Err(e)) => {
            let secrets = config.mcp.transport.secret_values();
            let context = resource.failure_context(Duration::from_millis(300)).await;
            CattackleError::NotSent {
                cattackle: name.to_owned(),
                reason: redacted(
                    &format!("MCP handshake failed: {}", describe_init(&e)),
                    &secrets,
                ),
                context: context.map(|c| redacted(&c, &secrets)),
            }
        }
        Err(_) => {
            let context = resource.failure_context(Duration::ZERO).await;
            let secrets = config.mcp.transport.secret_values();
            timed_out(Phase::Handshake, context.map(|c| redacted(&c, &secrets)))
        }
    };
    background.spawn(resource.shutdown(config.mcp.shutdown_grace));
    Err(StartError {
        error,
        handshake: true,
    })
}

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

/// The MCP handshake of `protocol` over any of the wire kinds.
/// The server's own requests are bounded on every wire (see [`server_requests`]).
fn handshake(
    io: TransportIo,
    protocol: Protocol,
    name: Arc<str>,
) -> BoxFuture<'static, Result<(Client, Dropped), ClientInitializeError>> {
    let (info, mode) = lifecycle(protocol);
    match io {
        TransportIo::Bytes { read, write } => {
            let wire = AsyncRwTransport::<RoleClient, _, _>::new_client(read, write);
            let (bounded, dropped) = server_requests::Bounded::new(wire, name);
            Box::pin(async move { Ok((info.serve_with_lifecycle(bounded, mode).await?, dropped)) })
        }
        TransportIo::Messages { sink, stream } => {
            let wire = SinkStreamTransport::new(sink, stream);
            let (bounded, dropped) = server_requests::Bounded::new(wire, name);
            Box::pin(async move { Ok((info.serve_with_lifecycle(bounded, mode).await?, dropped)) })
        }
        TransportIo::Http(wire) => {
            let (bounded, dropped) = server_requests::Bounded::new(wire, name);
            Box::pin(async move { Ok((info.serve_with_lifecycle(bounded, mode).await?, dropped)) })
        }
    }
}
