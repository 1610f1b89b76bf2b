//! `cattackle test`: runs scenario files, prints progress, a summary and how to reproduce.

use std::path::PathBuf;
use std::time::Duration;

use cattackle_harness::harness::RunOptions;
use cattackle_harness::scenario::Dur;
use cattackle_harness::trial::snapshot::{SnapshotCheck, SnapshotMode};
use cattackle_harness::trial::{
    Suite, Trial, TrialResult, default_jobs, expected_snapshots, run_pool, stray_snapshots,
};

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE, program_dirs};

#[derive(clap::Args, Debug)]
pub(crate) struct TestArgs {
    /// Scenario files or directories (recursively; `invalid/` folders are skipped).
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// Only trials whose name (`path/of/scenario@transport`) contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Seed of every probabilistic fault and jitter (overrides the scenarios' own).
    #[arg(long)]
    seed: Option<u64>,
    /// Trials run at once (default: the number of CPUs).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Write (or overwrite) each trial's snapshot instead of comparing with it.
    #[arg(long)]
    write_snapshots: bool,
    /// Print each trial's metrics (OpenMetrics text) after its line.
    #[arg(long)]
    metrics: bool,
    /// Fail on snapshot files that no trial uses (a renamed or deleted scenario). On by
    /// default when the `CI` environment variable is set; skipped with `--filter`.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    check_stray_snapshots: Option<bool>,
}

impl TestArgs {
    fn check_stray_snapshots(&self) -> bool {
        self.check_stray_snapshots.unwrap_or_else(|| {
            std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
        })
    }
}

pub(crate) fn run_tests(args: TestArgs) -> u8 {
    let suite = match Suite::load(&args.paths) {
        Ok(suite) => suite,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
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
        return EXIT_USAGE;
    }
    let trials: Vec<Trial> = suite
        .trials()
        .into_iter()
        .filter(|t| {
            args.filter
                .as_ref()
                .is_none_or(|p| t.name().contains(p.as_str()))
        })
        .collect();
    if trials.is_empty() {
        eprintln!("error: no trial matches the filter");
        return EXIT_USAGE;
    }
    let options = RunOptions {
        seed: args.seed,
        program_dirs: program_dirs(),
        mock_program: std::env::current_exe().ok(),
    };
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    let mode = if args.write_snapshots {
        SnapshotMode::Write
    } else {
        SnapshotMode::Compare
    };
    println!("running {} trials", trials.len());
    let wall = std::time::Instant::now();
    let total = trials.len();
    let mut results = run_pool(
        &trials,
        jobs,
        |trial| trial.run_and_check(&options, mode),
        |result, done| {
            print_progress(done, total, result);
            if args.metrics {
                print_metrics(&result.report.metrics);
            }
        },
    );
    let wall = wall.elapsed();
    results.sort_by(|a, b| a.report.name.cmp(&b.report.name));
    let stray = if args.check_stray_snapshots() && args.filter.is_none() {
        match expected_snapshots(&suite).and_then(|e| stray_snapshots(&suite.dirs, &e)) {
            Ok(stray) => stray,
            Err(e) => {
                eprintln!("error: cannot look for stray snapshots: {e}");
                return EXIT_USAGE;
            }
        }
    } else {
        Vec::new()
    };
    summarize(&results, &stray, wall, args.seed)
}

fn print_progress(done: usize, total: usize, result: &TrialResult) {
    let r = &result.report;
    let status = if r.passed() { "ok    " } else { "FAILED" };
    let clock = match r.clock {
        cattackle_harness::scenario::model::Clock::Virtual => "virtual",
        cattackle_harness::scenario::model::Clock::Real => "real",
    };
    let note = match result.snapshot {
        SnapshotCheck::Missing => ", no snapshot",
        SnapshotCheck::Written => ", snapshot written",
        _ => "",
    };
    println!(
        "[{done:>3}/{total}] {status} {} ({} {clock}, {} wall{note})",
        r.name,
        Dur(round_ms(r.clock_time)),
        Dur(round_ms(r.wall_time)),
    );
}

/// A trial's metrics, indented under its line (comment lines left out).
fn print_metrics(text: &str) {
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        println!("        {line}");
    }
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

fn summarize(results: &[TrialResult], stray: &[PathBuf], wall: Duration, seed: Option<u64>) -> u8 {
    let failed: Vec<&TrialResult> = results.iter().filter(|o| !o.report.passed()).collect();
    if !failed.is_empty() {
        println!("\nfailures:");
    }
    for o in &failed {
        let r = &o.report;
        println!("\n---- {} ----", r.name);
        for f in &r.failures {
            println!("{}: {}", f.at, f.message);
        }
        println!(
            "reproduce: cattackle test {} --filter '{}' --seed {}",
            o.path.display(),
            r.name,
            seed.unwrap_or(r.seed)
        );
    }
    if !stray.is_empty() {
        println!(
            "\nsnapshot files that no trial uses (delete them; `--check-stray-snapshots=false` skips this check):"
        );
        for path in stray {
            println!("  {}", path.display());
        }
    }
    let covered: Duration = results.iter().map(|o| o.report.clock_time).sum();
    let passed = results.len() - failed.len();
    let ok = failed.is_empty() && stray.is_empty();
    let stray_note = match stray.len() {
        0 => String::new(),
        n => format!(", {n} stray snapshot(s)"),
    };
    println!(
        "\ntest result: {}. {passed} passed, {} failed{stray_note}; {} of scenario time in {} wall time",
        if ok { "ok" } else { "FAILED" },
        failed.len(),
        human(covered),
        human(wall),
    );
    if ok { EXIT_OK } else { EXIT_FAILED }
}

/// `1h 1m 19.604s`, `8.924s`.
fn human(d: Duration) -> String {
    let secs = d.as_secs();
    let rest = Dur(round_ms(Duration::from_millis(
        (d.as_millis() % 60_000) as u64,
    )));
    match (secs / 3600, secs % 3600 / 60) {
        (0, 0) => rest.to_string(),
        (0, m) => format!("{m}m {rest}"),
        (h, m) => format!("{h}h {m}m {rest}"),
    }
}
