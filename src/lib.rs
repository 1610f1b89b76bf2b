//! Catmandu's MCP client manager, and the harness that tests it and the cattackles it talks to.
//!
//! The manager, always built (embed it with `default-features = false`):
//! - [`config`]: `cattackle.toml`, with positioned diagnostics.
//! - [`transport`]: the connector seam; stdio, WebSocket, Streamable HTTP, in-memory.
//! - [`manager`]: [`McpClientManager`](manager::McpClientManager), one live session per
//!   cattackle, calls with per-attempt timeouts, retries and backoff.
//!
//! The harness (feature `harness`), each layer using only those above it in this list:
//! - [`journal`]: the record of a run that every part emits into, and the transcript reads.
//! - [`scenario`]: scenario files (YAML), their loader with positioned errors, their JSON Schema.
//! - [`mock`]: the scripted MCP server with faults, over every transport.
//! - [`relay`]: the mock's faults between the manager and a real cattackle.
//! - [`harness`]: the runner that drives the full manager through a scenario.
//! - [`trial`]: trials defined once: discover, expand, name, run, compare with snapshots.
//! - [`check`]: the conformance runner: a pack of checks against any cattackle or MCP server.

pub mod config;
pub mod manager;
pub mod transport;
mod util;

#[cfg(feature = "harness")]
pub mod check;
#[cfg(feature = "harness")]
pub mod harness;
#[cfg(feature = "harness")]
pub mod journal;
#[cfg(feature = "harness")]
pub mod mock;
#[cfg(feature = "harness")]
pub mod relay;
#[cfg(feature = "harness")]
pub mod scenario;
#[cfg(feature = "harness")]
pub mod trial;

/// Entry points for `cargo fuzz` (built only with `--cfg fuzzing`): see `tests/fuzz/`.
#[cfg(all(fuzzing, feature = "harness"))]
#[doc(hidden)]
pub mod fuzzing;
