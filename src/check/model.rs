//! What a check run produces: each check's status with its evidence, per suite, and the
//! summary. The JSON report (`--format json`) is these types, serialized; its schema is in
//! `docs/check-report.schema.json`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How much a failed check matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A failure fails the run.
    Must,
    /// A failure is a warning (a failure with `--strict`).
    Should,
    /// Never fails: a figure, such as a latency.
    Info,
}

impl Severity {
    /// `MUST`, `SHOULD`, `INFO`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Must => "MUST",
            Self::Should => "SHOULD",
            Self::Info => "INFO",
        }
    }
}

/// The area a check belongs to; results are grouped by it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    /// The handshake, ping, errors for unknown methods and malformed messages.
    Lifecycle,
    /// `tools/list`, input schemas, unknown tools.
    Tools,
    /// The cattackle contract (`{"data", "error"}`).
    Contract,
    /// Concurrency, cancellation, many sessions, figures.
    Robustness,
    /// stdio: stdout hygiene, exit on EOF, process group.
    Stdio,
    /// Streamable HTTP.
    Http,
    /// WebSocket.
    Websocket,
    /// Every frame parses as the MCP message expected.
    Wire,
}

impl Area {
    /// The heading of the area in human output.
    pub fn title(self) -> &'static str {
        match self {
            Self::Lifecycle => "lifecycle",
            Self::Tools => "tools",
            Self::Contract => "cattackle contract",
            Self::Robustness => "robustness",
            Self::Stdio => "stdio",
            Self::Http => "streamable HTTP",
            Self::Websocket => "websocket",
            Self::Wire => "wire schema",
        }
    }
}

/// The outcome of one check (for one subject).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The requirement holds.
    Pass,
    /// A MUST requirement does not hold (or a SHOULD one, with `--strict`).
    Fail,
    /// A SHOULD requirement does not hold.
    Warn,
    /// The check does not apply (a capability the server did not declare, a target that is not
    /// a cattackle, another transport), with the reason.
    Skip,
    /// A figure, not a requirement.
    Info,
    /// The check itself could not run (a harness error, not the server's fault).
    Error,
}

impl Status {
    /// The mark human output shows.
    pub fn mark(self) -> &'static str {
        match self {
            Self::Pass => "✓",
            Self::Fail => "✗",
            Self::Warn => "!",
            Self::Skip => "–",
            Self::Info => "i",
            Self::Error => "E",
        }
    }
}

/// What a check found, before its severity turns it into a [`Status`].
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// It holds; the text says what was seen.
    Pass(String),
    /// It does not hold: what is wrong, and the evidence (frames, text, the stderr tail).
    Violated {
        /// One line.
        message: String,
        /// What came back, cut and redacted.
        evidence: Vec<String>,
    },
    /// It does not apply, and why.
    Skip(String),
    /// A figure.
    Info(String),
    /// The harness could not run the check.
    Broken(String),
}

impl Verdict {
    /// A violation with one piece of evidence.
    pub fn violated(message: impl Into<String>, evidence: impl Into<String>) -> Self {
        Self::Violated {
            message: message.into(),
            evidence: vec![evidence.into()],
        }
    }
}

/// One finding of a check: about a subject (a command, a tool) or the server as a whole.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The command or tool it is about, if any.
    pub subject: Option<String>,
    /// What was found.
    pub verdict: Verdict,
}

impl From<Verdict> for Finding {
    fn from(verdict: Verdict) -> Self {
        Self {
            subject: None,
            verdict,
        }
    }
}

/// One check's result in the report.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct CheckResult {
    /// The stable id, such as `lifecycle.initialize`.
    pub id: String,
    /// Its area.
    pub area: Area,
    /// Its severity.
    pub severity: Severity,
    /// The command or tool it is about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The outcome.
    pub status: Status,
    /// What was seen, or what is wrong, in one line.
    pub message: String,
    /// What came back (frames, text, stderr), cut and with secrets redacted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// The spec section or contract section the check follows.
    pub reference: String,
    /// Wall time of the check, in milliseconds (shared by the findings of one check).
    pub duration_ms: u64,
    /// The baseline's reason, when the baseline lists this failing check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baselined: Option<String>,
}

impl CheckResult {
    /// Whether it fails the run: a failure not covered by the baseline, or a harness error.
    pub fn fails_run(&self) -> bool {
        matches!(self.status, Status::Fail | Status::Error) && self.baselined.is_none()
    }
}

/// The results for one target.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct SuiteReport {
    /// The cattackle's name, or the server's command or URL (without credentials).
    pub name: String,
    /// `stdio`, `websocket` or `http`.
    pub transport: String,
    /// Whether the target is a cattackle (the contract checks apply).
    pub cattackle: bool,
    /// The protocol version the server answered in the handshake, if it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    /// Whether the target could be started and answered the handshake at all.
    pub reachable: bool,
    /// Every check, in catalogue order.
    pub results: Vec<CheckResult>,
}

/// A baseline entry that no longer matches a failure.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct StaleEntry {
    /// The check id.
    pub id: String,
    /// The suite it was listed for, if per cattackle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
    /// Its reason.
    pub reason: String,
}

/// Counts over every suite.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Summary {
    /// Checks that passed.
    pub passed: usize,
    /// Failed (baselined ones included: see `baselined`).
    pub failed: usize,
    /// Warnings.
    pub warnings: usize,
    /// Skipped.
    pub skipped: usize,
    /// Figures.
    pub info: usize,
    /// Checks that could not run.
    pub errors: usize,
    /// Failures the baseline lists.
    pub baselined: usize,
    /// Baseline entries that no longer fail.
    pub stale: usize,
}

/// The whole run: `--format json` prints exactly this.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct RunReport {
    /// `cattackle-check/1`: changes only when the document changes incompatibly.
    pub format: String,
    /// The harness version.
    pub version: String,
    /// Whether the run passed (exit code 0).
    pub passed: bool,
    /// The counts.
    pub summary: Summary,
    /// One suite per target.
    pub suites: Vec<SuiteReport>,
    /// Baseline entries that no longer fail ("remove them").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stale_baseline: Vec<StaleEntry>,
}

/// The `format` of the JSON report.
pub const REPORT_FORMAT: &str = "cattackle-check/1";

impl RunReport {
    /// Counts the results, and decides whether the run passed.
    pub fn new(suites: Vec<SuiteReport>, stale_baseline: Vec<StaleEntry>) -> Self {
        let mut summary = Summary {
            stale: stale_baseline.len(),
            ..Summary::default()
        };
        for result in suites.iter().flat_map(|s| &s.results) {
            match result.status {
                Status::Pass => summary.passed += 1,
                Status::Fail => summary.failed += 1,
                Status::Warn => summary.warnings += 1,
                Status::Skip => summary.skipped += 1,
                Status::Info => summary.info += 1,
                Status::Error => summary.errors += 1,
            }
            if result.baselined.is_some() {
                summary.baselined += 1;
            }
        }
        let passed = stale_baseline.is_empty()
            && suites
                .iter()
                .all(|s| s.reachable && !s.results.iter().any(CheckResult::fails_run));
        Self {
            format: REPORT_FORMAT.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            passed,
            summary,
            suites,
            stale_baseline,
        }
    }
}
