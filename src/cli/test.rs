//! `cattackle test`: selects trials (paths, filter, tags, shard), runs them (repeated, per seed,
//! each bounded), and reports them for people (`test_print`), programs (JSON, JSON lines) and CI
//! test tabs (JUnit).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cattackle_harness::harness::RunOptions;
use cattackle_harness::trial::snapshot::SnapshotMode;
use cattackle_harness::trial::{
    Partition, Suite, TestReport, Trial, TrialRecord, TrialResult, default_jobs,
    expected_snapshots, has_tag, html, junit, run_pool, stray_snapshots,
};

use super::test_print::{Printer, Seeds};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE, program_dirs};

const EXAMPLES: &str = "\
Examples:
  cattackle test                                         # every shipped scenario
  cattackle test scenarios/resilience --tag breaker --junit test.xml
  cattackle test --partition hash:1/2 --format json > shard1.json
  cattackle test --filter retry --seeds 0..50            # hunt a flaky trial";

#[derive(clap::Args, Debug)]
#[command(after_help = format!("{}\n\n{EXAMPLES}", super::EXIT_CODES))]
pub(crate) struct TestArgs {
    /// Scenario files or directories (recursively; `invalid/` folders are skipped).
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// Only trials whose name (`path/of/scenario@transport`) contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Only scenarios with this tag (repeat for several: any of them).
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Only this CI shard: `count:M/N` (round-robin in name order) or `hash:M/N` (by a stable
    /// hash of the name), as nextest does.
    #[arg(long, value_name = "KIND:M/N")]
    partition: Option<Partition>,
    /// Print the selected trials, one per line, and run nothing.
    #[arg(long)]
    list: bool,
    /// Seed of every probabilistic fault and jitter (overrides the scenarios' own).
    #[arg(long, conflicts_with = "seeds")]
    seed: Option<u64>,
    /// Run each trial once per seed of `A..B` (B excluded) or `A..=B`, to hunt flaky ones.
    #[arg(long, value_name = "A..B")]
    seeds: Option<Seeds>,
    /// Run each trial N times (with its own seed, or `--seed`).
    #[arg(long, value_name = "N", default_value_t = 1)]
    repeat: u32,
    /// Stop starting trials after the first failure (those not run are counted).
    #[arg(long)]
    fail_fast: bool,
    /// A trial still running after this many seconds of wall time fails, and is stopped.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    trial_timeout: f64,
    /// Trials run at once (default: the number of CPUs).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// `human` (default), `json` (one document at the end), `json-lines` (an event per trial
    /// start and end, then a summary). Schema: docs/test-report.schema.json.
    #[arg(long, default_value = "human", value_parser = ["human", "json", "json-lines"])]
    format: String,
    /// Also write JUnit XML to PATH: a suite per scenario folder, a case per trial.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Also write an HTML report to PATH: one self-contained file, failing trials first, each
    /// with a timeline of its calls (attempts, backoff, sessions, faults).
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// Write (or overwrite) each trial's snapshot instead of comparing with it.
    #[arg(long)]
    write_snapshots: bool,
    /// Print each trial's metrics (OpenMetrics text) after its line.
    #[arg(long)]
    metrics: bool,
    /// Fail on snapshot files that no trial uses (a renamed or deleted scenario). On by
    /// default when the `CI` environment variable is set; skipped with `--filter`, `--tag`
    /// and `--partition`.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    check_stray_snapshots: Option<bool>,
}

impl TestArgs {
    fn check_stray_snapshots(&self) -> bool {
        let selected = self.filter.is_some() || !self.tags.is_empty() || self.partition.is_some();
        !selected
            && self.check_stray_snapshots.unwrap_or_else(|| {
                std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
            })
    }
}

/// One run of one trial: which trial, which repetition, which seed.
struct Run<'t> {
    trial: &'t Trial,
    number: u32,
    seed: Option<u64>,
}

pub(crate) fn run_tests(args: TestArgs) -> u8 {
    let Some(trial_timeout) = Duration::try_from_secs_f64(args.trial_timeout)
        .ok()
        .filter(|d| !d.is_zero())
    else {
        eprintln!(
            "error: --trial-timeout: {} is not a positive number of seconds",
            args.trial_timeout
        );
        return EXIT_USAGE;
    };
    let suite = match load(&args) {
        Ok(suite) => suite,
        Err(code) => return code,
    };
    let mut trials: Vec<Trial> = suite
        .trials()
        .into_iter()
        .filter(|t| {
            args.filter
                .as_ref()
                .is_none_or(|p| t.name().contains(p.as_str()))
        })
        .filter(|t| has_tag(t, &args.tags))
        .collect();
    if let Some(partition) = &args.partition {
        trials = partition.select(trials);
    }
    if args.list {
        for trial in &trials {
            println!("{}", trial.name());
        }
        return EXIT_OK;
    }
    if trials.is_empty() && args.partition.is_none() {
        eprintln!("error: no trial matches the filter");
        return EXIT_USAGE;
    }
    let options = RunOptions {
        seed: args.seed,
        program_dirs: program_dirs(),
        mock_program: std::env::current_exe().ok(),
        trial_timeout: Some(trial_timeout),
    };
    let runs = plan(&trials, &args);
    let mode = if args.write_snapshots {
        SnapshotMode::Write
    } else {
        SnapshotMode::Compare
    };
    let repeated = args.seeds.is_some() || args.repeat > 1;
    let printer = Printer::new(&args.format, args.metrics, runs.len(), repeated);
    printer.begin(runs.len());
    let stop = AtomicBool::new(false);
    let wall = std::time::Instant::now();
    let results = run_pool(
        &runs,
        args.jobs.unwrap_or_else(default_jobs),
        |run| {
            if args.fail_fast && stop.load(Ordering::Relaxed) {
                return None;
            }
            printer.started(run.trial.name(), run.number);
            let mut options = options.clone();
            options.seed = run.seed.or(options.seed);
            let own = run.trial.file.scenario.seed.unwrap_or(0);
            let mode = match options.seed {
                Some(seed) if seed != own && mode == SnapshotMode::Compare => SnapshotMode::Skip,
                _ => mode,
            };
            let result = run.trial.run_and_check(&options, mode);
            if !result.report.passed() {
                stop.store(true, Ordering::Relaxed);
            }
            Some((run.number, result))
        },
        |done, count| {
            if let Some((number, result)) = done {
                printer.finished(result, *number, count);
            }
        },
    );
    let wall = wall.elapsed();
    let not_run = results.iter().filter(|r| r.is_none()).count();
    let mut ran: Vec<(u32, TrialResult)> = results.into_iter().flatten().collect();
    ran.sort_by(|a, b| a.1.report.name.cmp(&b.1.report.name).then(a.0.cmp(&b.0)));
    let stray = match stray(&suite, &args) {
        Ok(stray) => stray,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_USAGE;
        }
    };
    let records: Vec<TrialRecord> = ran.iter().map(|(n, r)| TrialRecord::of(r, *n)).collect();
    if let Some(path) = &args.junit {
        let transcripts: Vec<&str> = ran
            .iter()
            .map(|(_, r)| r.report.transcript.as_str())
            .collect();
        if let Err(e) = std::fs::write(path, junit::render(&records, &transcripts)) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return EXIT_USAGE;
        }
    }
    let report = TestReport::new(
        records,
        not_run,
        stray.iter().map(|p| p.display().to_string()).collect(),
        wall.as_millis() as u64,
        args.partition.map(|p| p.to_string()),
    );
    if let Some(path) = &args.report
        && let Err(e) = std::fs::write(path, html::render(&report, &ran))
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return EXIT_USAGE;
    }
    printer.end(&report, &ran);
    if report.passed { EXIT_OK } else { EXIT_FAILED }
}

fn load(args: &TestArgs) -> Result<Suite, u8> {
    let suite = Suite::load(&args.paths).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_USAGE
    })?;
    for file in &suite.files {
        if !file.config_warnings.is_empty() {
            eprintln!("{}", file.config_warnings);
        }
    }
    if !suite.invalid.is_empty() {
        for (_, e) in &suite.invalid {
            eprintln!("{}", e.render());
        }
        eprintln!(
            "error: {} scenario file(s) are invalid; nothing was run",
            suite.invalid.len()
        );
        return Err(EXIT_USAGE);
    }
    Ok(suite)
}

/// Every run: each trial `--repeat` times, or once per seed of `--seeds`.
fn plan<'t>(trials: &'t [Trial], args: &TestArgs) -> Vec<Run<'t>> {
    let mut runs = Vec::new();
    for trial in trials {
        match &args.seeds {
            Some(seeds) => {
                for (i, seed) in seeds.iter().enumerate() {
                    runs.push(Run {
                        trial,
                        number: i as u32 + 1,
                        seed: Some(seed),
                    });
                }
            }
            None => {
                for number in 1..=args.repeat.max(1) {
                    runs.push(Run {
                        trial,
                        number,
                        seed: None,
                    });
                }
            }
        }
    }
    runs
}

fn stray(suite: &Suite, args: &TestArgs) -> Result<Vec<PathBuf>, String> {
    if !args.check_stray_snapshots() {
        return Ok(Vec::new());
    }
    expected_snapshots(suite)
        .and_then(|e| stray_snapshots(&suite.dirs, &e))
        .map_err(|e| format!("cannot look for stray snapshots: {e}"))
}
