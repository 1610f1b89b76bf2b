//! Catmandu's MCP client manager, and the harness that tests it and the cattackles it talks to.
//!
//! - [`config`]: `cattackle.toml`, with positioned diagnostics.
//! - [`manager`]: [`McpClientManager`](manager::McpClientManager), one live session per
//!   cattackle, calls with per-attempt timeouts, retries and backoff.
//! - [`transport`]: the connector seam; stdio, WebSocket, Streamable HTTP, in-memory.
//! - [`scenario`]: scenario files (YAML), their loader with positioned errors, their JSON Schema.
//! - [`mock`]: the scripted MCP server with faults, over every transport.
//! - [`harness`]: the runner that drives the full manager through a scenario.

pub mod config;
pub mod harness;
pub mod manager;
pub mod mock;
pub mod scenario;
pub mod transport;
mod util;
