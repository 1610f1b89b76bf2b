//! The machine-readable record of a `cattackle test` run: `--format json` prints a
//! [`TestReport`]; `--format json-lines` streams [`TestEvent`]s. Schema:
//! `docs/test-report.schema.json` (`cattackle schema --test-report`).

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;

use super::TrialResult;

/// `format` of the document: changes only when it changes incompatibly.
pub const TEST_REPORT_FORMAT: &str = "cattackle-test/1";

/// Pass or fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TrialStatus {
    /// Every expectation held, and the snapshot matched.
    Pass,
    /// Something did not.
    Fail,
    /// Not run: a file it requires is missing (see its `skipped` reason).
    Skip,
}

/// One expectation that did not hold.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct FailureRecord {
    /// Where: `steps[2]`, `server_expect[0]`, `snapshot`, `setup`, `trial`.
    pub at: String,
    /// What differs (a snapshot's diff included).
    pub message: String,
}

/// One run of one trial.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct TrialRecord {
    /// `path/of/scenario@transport`.
    pub name: String,
    /// The scenario file.
    pub scenario: String,
    /// The folder it is in, under the root (the JUnit suite).
    pub folder: String,
    /// `in-process`, `stdio`, `real-http`, …
    pub transport: String,
    /// The seed of its faults and jitter.
    pub seed: u64,
    /// The outcome.
    pub status: TrialStatus,
    /// `virtual` or `real`.
    pub clock: String,
    /// Time covered on its clock, in milliseconds.
    pub scenario_time_ms: u64,
    /// Wall time, in milliseconds.
    pub wall_time_ms: u64,
    /// What did not hold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<FailureRecord>,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Its transcript: the snapshot file.
    pub transcript: String,
    /// Which repetition this is (from 1; with `--repeat` or `--seeds`).
    pub run: u32,
    /// The one-line command that reproduces it.
    pub reproduce: String,
}

impl TrialRecord {
    /// The record of `result`, its `run`-th repetition.
    pub fn of(result: &TrialResult, run: u32) -> Self {
        let r = &result.report;
        Self {
            name: r.name.clone(),
            scenario: result.path.display().to_string(),
            folder: folder(&r.id),
            transport: r.target.as_str().to_owned(),
            seed: r.seed,
            status: if r.skipped.is_some() {
                TrialStatus::Skip
            } else if r.passed() {
                TrialStatus::Pass
            } else {
                TrialStatus::Fail
            },
            skipped: r.skipped.clone(),
            clock: match r.clock {
                crate::scenario::model::Clock::Virtual => "virtual",
                crate::scenario::model::Clock::Real => "real",
            }
            .to_owned(),
            scenario_time_ms: r.clock_time.as_millis() as u64,
            wall_time_ms: r.wall_time.as_millis() as u64,
            failures: r
                .failures
                .iter()
                .map(|f| FailureRecord {
                    at: f.at.clone(),
                    message: f.message.clone(),
                })
                .collect(),
            transcript: result.snapshot_path.display().to_string(),
            run,
            reproduce: reproduce(&result.path, &r.name, r.seed),
        }
    }
}

/// `cattackle test <file> --filter '<name>' --seed <seed>`.
pub fn reproduce(path: &Path, name: &str, seed: u64) -> String {
    format!(
        "cattackle test {} --filter '{name}' --seed {seed}",
        path.display()
    )
}

/// `resilience` for `resilience/breaker-trips@in-process`; `.` at the root.
fn folder(id: &str) -> String {
    match id.rsplit_once('/') {
        Some((dir, _)) => dir.to_owned(),
        None => ".".to_owned(),
    }
}

/// A trial whose outcome differed between its runs.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Flaky {
    /// The trial.
    pub name: String,
    /// How many runs it had.
    pub runs: usize,
    /// The seeds of the runs that failed.
    pub failed_seeds: Vec<u64>,
    /// The seeds of the runs that passed.
    pub passed_seeds: Vec<u64>,
    /// One command per failed seed.
    pub reproduce: Vec<String>,
}

/// Counts.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct TestSummary {
    /// Runs that passed.
    pub passed: usize,
    /// Runs that failed.
    pub failed: usize,
    /// Runs skipped (a file they require is missing).
    pub skipped: usize,
    /// Trials whose outcome differed between runs.
    pub flaky: usize,
    /// Trials not run (`--fail-fast` stopped the run).
    pub not_run: usize,
    /// Snapshot files no trial uses (when checked).
    pub stray_snapshots: usize,
    /// Scenario time covered, in milliseconds.
    pub scenario_time_ms: u64,
    /// Wall time of the run, in milliseconds.
    pub wall_time_ms: u64,
}

/// The whole run.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct TestReport {
    /// `cattackle-test/1`.
    pub format: String,
    /// The harness version.
    pub version: String,
    /// Whether the run passed (exit 0).
    pub passed: bool,
    /// The shard, with `--partition`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// The counts.
    pub summary: TestSummary,
    /// Every run of every trial, by name then run.
    pub trials: Vec<TrialRecord>,
    /// Trials whose outcome differed between runs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flaky: Vec<Flaky>,
    /// Snapshot files no trial uses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stray_snapshots: Vec<String>,
}

impl TestReport {
    /// Counts `trials`, finds the flaky ones, decides whether the run passed.
    pub fn new(
        trials: Vec<TrialRecord>,
        not_run: usize,
        stray: Vec<String>,
        wall_time_ms: u64,
        partition: Option<String>,
    ) -> Self {
        let failed = trials
            .iter()
            .filter(|t| t.status == TrialStatus::Fail)
            .count();
        let skipped = trials
            .iter()
            .filter(|t| t.status == TrialStatus::Skip)
            .count();
        let mut by_name: BTreeMap<&str, Vec<&TrialRecord>> = BTreeMap::new();
        for t in &trials {
            by_name.entry(&t.name).or_default().push(t);
        }
        let flaky: Vec<Flaky> = by_name
            .into_iter()
            .filter(|(_, runs)| {
                runs.iter().any(|r| r.status == TrialStatus::Pass)
                    && runs.iter().any(|r| r.status == TrialStatus::Fail)
            })
            .map(|(name, runs)| {
                let seeds = |s: TrialStatus| {
                    runs.iter()
                        .filter(|r| r.status == s)
                        .map(|r| r.seed)
                        .collect::<Vec<_>>()
                };
                Flaky {
                    name: name.to_owned(),
                    runs: runs.len(),
                    failed_seeds: seeds(TrialStatus::Fail),
                    passed_seeds: seeds(TrialStatus::Pass),
                    reproduce: runs
                        .iter()
                        .filter(|r| r.status == TrialStatus::Fail)
                        .map(|r| r.reproduce.clone())
                        .collect(),
                }
            })
            .collect();
        let summary = TestSummary {
            passed: trials.len() - failed - skipped,
            skipped,
            failed,
            flaky: flaky.len(),
            not_run,
            stray_snapshots: stray.len(),
            scenario_time_ms: trials.iter().map(|t| t.scenario_time_ms).sum(),
            wall_time_ms,
        };
        Self {
            format: TEST_REPORT_FORMAT.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            passed: failed == 0 && stray.is_empty() && not_run == 0,
            partition,
            summary,
            trials,
            flaky,
            stray_snapshots: stray,
        }
    }

    /// The JSON Schema of the document.
    pub fn json_schema() -> String {
        serde_json::to_string_pretty(&schemars::schema_for!(TestReport)).unwrap_or_default()
    }
}

/// One line of `--format json-lines`.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TestEvent {
    /// A trial run started.
    Started {
        /// The trial.
        name: String,
        /// Which repetition.
        run: u32,
    },
    /// A trial run ended.
    Finished(TrialRecord),
    /// The run ended; the whole report without its trials.
    Summary {
        /// Whether the run passed.
        passed: bool,
        /// The counts.
        summary: TestSummary,
        /// Trials whose outcome differed between runs.
        flaky: Vec<Flaky>,
    },
}
