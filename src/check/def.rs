//! What a check is: its id, area, severity, reference, what it needs of the target, and how it
//! runs. The built-in checks ([`super::catalog`]) and those written as data ([`super::pack`])
//! are both made of these.

use std::sync::Arc;

use super::ctx::Ctx;
use super::model::{Area, Finding, Severity};
use super::target::Target;
use crate::config::TransportConfig;
use crate::transport::BoxFuture;

/// What a check needs of the target; otherwise it is skipped with the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Any MCP server.
    Nothing,
    /// A cattackle (a `cattackle.toml`): the contract checks.
    Cattackle,
    /// A stdio server.
    Stdio,
    /// A Streamable HTTP server.
    Http,
    /// A WebSocket server.
    WebSocket,
}

impl Needs {
    /// Why the check does not apply to `target`, if it does not.
    pub fn unmet(self, target: &Target) -> Option<&'static str> {
        let transport = &target.config.mcp.transport;
        match self {
            Self::Nothing => None,
            Self::Cattackle if !target.cattackle => {
                Some("not a cattackle (no cattackle.toml): the contract does not apply")
            }
            Self::Stdio if !matches!(transport, TransportConfig::Stdio(_)) => {
                Some("not a stdio server")
            }
            Self::Http if !matches!(transport, TransportConfig::Http { .. }) => {
                Some("not an HTTP server")
            }
            Self::WebSocket if !matches!(transport, TransportConfig::WebSocket { .. }) => {
                Some("not a WebSocket server")
            }
            _ => None,
        }
    }
}

/// How a check runs: a function of `checks/`, or a pack file's steps (a closure over them).
pub(crate) type Runner = Arc<dyn Fn(Ctx) -> BoxFuture<'static, Vec<Finding>> + Send + Sync>;

/// One check of the pack.
#[derive(Clone)]
pub struct CheckDef {
    /// Stable id: `area.name`.
    pub id: String,
    /// Its area.
    pub area: Area,
    /// Its severity.
    pub severity: Severity,
    /// The MCP spec section (under `{spec}/`, the negotiated era's specification) or the
    /// cattackle contract section it follows.
    pub reference: String,
    /// What it sends and what passes, in one line.
    pub summary: String,
    /// What it needs of the target.
    pub needs: Needs,
    /// Whether it is written as data (a pack file) rather than built in.
    pub data: bool,
    /// How many `--check-timeout`s its bound is: 1, but more for a check that opens many
    /// sessions in a row (each bounded by `connect_timeout` on its own), so a slow starter (a
    /// Python server on a loaded machine) is not called wedged.
    pub bound: u32,
    /// Runs it.
    pub(crate) run: Runner,
}

impl CheckDef {
    /// The same check, bounded by `times` check timeouts.
    pub(crate) fn bounded_by(mut self, times: u32) -> Self {
        self.bound = times;
        self
    }

    /// Whether it is written as data (a pack file) rather than built in.
    pub fn is_data(&self) -> bool {
        self.data
    }

    /// Runs it.
    pub(crate) fn start(&self, ctx: Ctx) -> BoxFuture<'static, Vec<Finding>> {
        (self.run)(ctx)
    }

    /// The reference with `{spec}` filled in for `version`.
    pub fn reference_for(&self, version: &str) -> String {
        self.reference.replace(
            "{spec}",
            &format!("https://modelcontextprotocol.io/specification/{version}"),
        )
    }
}
