//! Catmandu's MCP client manager, and the harness that tests it and the cattackles it talks to.
//!
//! - [`config`]: `cattackle.toml`, with positioned diagnostics.
//! - [`manager`]: [`McpClientManager`](manager::McpClientManager), one live session per
//!   cattackle, calls with per-attempt timeouts, retries and backoff.
//! - [`transport`]: the connector seam and the stdio transport.

pub mod config;
pub mod harness;
pub mod manager;
pub mod mock;
pub mod scenario;
pub mod transport;
