//! A loaded scenario ([`ScenarioFile`]) and the trials it asks for ([`TrialTarget`]).

use std::path::PathBuf;

use super::model::{MockTransport, Scenario};
use crate::config::{CattackleConfig, TransportKind};

/// Where a trial's server is: a mock over one transport, or the real cattackle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrialTarget {
    /// The mock, over this transport.
    Mock(MockTransport),
    /// The cattackle itself, over its configured transport.
    Real(TransportKind),
}

impl TrialTarget {
    /// The name used in trial names and snapshot names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mock(t) => t.as_str(),
            Self::Real(TransportKind::Stdio) => "real-stdio",
            Self::Real(TransportKind::WebSocket) => "real-websocket",
            Self::Real(TransportKind::Http) => "real-http",
        }
    }

    /// Whether the run uses a virtual clock by default.
    pub fn in_process(self) -> bool {
        matches!(self, Self::Mock(t) if t.in_process())
    }
}

/// A loaded scenario: the file, the parsed scenario and its cattackle configuration text.
#[derive(Clone, Debug)]
pub struct ScenarioFile {
    /// The file as named by the user.
    pub path: PathBuf,
    /// The name of its trials: the path under the scenarios root, without `.yaml`.
    pub id: String,
    /// What it says.
    pub scenario: Scenario,
    /// The `cattackle.toml` text (overrides applied), as the configuration was built from.
    pub config_text: String,
    /// How the configuration is named in its diagnostics.
    pub config_name: String,
    /// The configuration, built once at load. `{port}` stays as written: a trial fills it in
    /// and aims the transport at its server, in one typed step. `reload` steps hold theirs.
    pub config: CattackleConfig,
    /// The configuration's warnings (unknown keys with the nearest valid one, keys of another
    /// transport), rendered; empty when there are none. `cattackle test` prints them.
    pub config_warnings: String,
}

impl ScenarioFile {
    /// The name of its trial against `target`: `<id>@<target>` (`retry/timeout@stdio`).
    pub fn trial_name(&self, target: TrialTarget) -> String {
        format!("{}@{}", self.id, target.as_str())
    }

    /// The name of that trial's snapshot: `<file stem>@<target>`, in `snapshots/` beside it.
    pub fn snapshot_name(&self, target: TrialTarget) -> String {
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("{stem}@{}", target.as_str())
    }

    /// Why its trial against `target` is skipped: a real server's trial, when a file it
    /// requires is missing (the first, and how to install it). Mock trials never are.
    pub fn missing_requirement(&self, target: TrialTarget) -> Option<String> {
        if !matches!(target, TrialTarget::Real(_)) {
            return None;
        }
        self.scenario
            .requires
            .iter()
            .find(|r| !r.path.exists())
            .map(|r| format!("needs {} (run `{}`)", r.path.display(), r.install))
    }

    /// The runs it asks for, one per transport.
    pub fn targets(&self) -> Vec<TrialTarget> {
        let mut targets = Vec::new();
        if self.scenario.server.has_mock() {
            if self.scenario.transports.is_empty() {
                targets.push(TrialTarget::Mock(MockTransport::Stdio));
            }
            targets.extend(
                self.scenario
                    .transports
                    .iter()
                    .map(|t| TrialTarget::Mock(*t)),
            );
        }
        if self.scenario.server.has_real() {
            targets.push(TrialTarget::Real(self.config.mcp.transport.kind()));
        }
        targets
    }
}
