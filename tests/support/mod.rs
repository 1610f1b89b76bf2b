//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

pub mod cli;
pub mod junit;
pub mod legacy;
pub mod processes;
pub mod proxy;
pub mod rmcp_peer;

use cattackle_harness::config::{CattackleConfig, load_str};

/// A configuration named `mock` with commands `echo` and `other`; `mcp` lines go under
/// `[cattackle.mcp]`, `transport` lines under `[cattackle.mcp.transport]`.
pub fn config_with(mcp: &str, transport: &str) -> CattackleConfig {
    let text = format!(
        r#"
[cattackle]
name = "mock"
version = "1.0"
description = "scripted"

[cattackle.commands]
echo = {{ description = "echo" }}
other = {{ description = "other" }}

[cattackle.mcp]
{mcp}

[cattackle.mcp.transport]
{transport}
"#
    );
    match load_str("test.toml", &text) {
        Ok(loaded) => loaded.config,
        Err(e) => panic!("bad test config:\n{}", e.render()),
    }
}

/// [`config_with`] with a placeholder stdio transport (in-memory tests ignore it).
pub fn config(mcp: &str) -> CattackleConfig {
    config_with(mcp, "type = \"stdio\"\ncommand = \"unused\"")
}
