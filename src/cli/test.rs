//! `cattackle test`: runs scenario files, prints progress, a summary and how to reproduce.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use cattackle_harness::harness::{Report, RunOptions, run, snapshot};
use cattackle_harness::scenario::{Dur, ScenarioFile, TrialTarget, collect_files, load_file};

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
}

struct Outcome {
    report: Report,
    path: PathBuf,
    snapshot_note: Option<String>,
}

pub(crate) fn run_tests(args: TestArgs) -> u8 {
    let files = match collect_files(&args.paths) {
        Ok(files) if !files.is_empty() => files,
        Ok(_) => {
            eprintln!(
                "error: no scenario files (*.yaml) under {}",
                show_paths(&args.paths)
            );
            return EXIT_USAGE;
        }
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", show_paths(&args.paths));
            return EXIT_USAGE;
        }
    };
    let root = common_root(&args.paths);
    let mut loaded = Vec::new();
    let mut invalid = 0;
    for path in &files {
        match load_file(path, &root) {
            Ok(file) => {
                if !file.config_warnings.is_empty() {
                    eprintln!("{}", file.config_warnings);
                }
                loaded.push(file);
            }
            Err(e) => {
                eprintln!("{}", e.render());
                invalid += 1;
            }
        }
    }
    if invalid > 0 {
        eprintln!("error: {invalid} scenario file(s) are invalid; nothing was run");
        return EXIT_USAGE;
    }
    let trials: Vec<(&ScenarioFile, TrialTarget)> = loaded
        .iter()
        .flat_map(|f| f.targets().into_iter().map(move |t| (f, t)))
        .filter(|(f, t)| {
            args.filter
                .as_ref()
                .is_none_or(|p| format!("{}@{}", f.id, t.as_str()).contains(p.as_str()))
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
    let jobs = args
        .jobs
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
        .max(1);
    println!("running {} trials", trials.len());
    let wall = std::time::Instant::now();
    let queue = Mutex::new(trials.iter());
    let outcomes = Mutex::new(Vec::new());
    let total = trials.len();
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(total) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                    let Some((file, target)) = next else { break };
                    let outcome = run_one(file, *target, &options, args.write_snapshots);
                    let mut done = outcomes.lock().unwrap_or_else(|e| e.into_inner());
                    done.push(outcome);
                    let last = done.last().expect("just pushed");
                    print_progress(done.len(), total, last);
                }
            });
        }
    });
    let wall = wall.elapsed();
    let mut outcomes = outcomes.into_inner().unwrap_or_else(|e| e.into_inner());
    outcomes.sort_by(|a, b| a.report.name.cmp(&b.report.name));
    summarize(&outcomes, wall, args.seed)
}

fn run_one(file: &ScenarioFile, target: TrialTarget, options: &RunOptions, write: bool) -> Outcome {
    let mut report = run(file, target, options);
    let path = snapshot::path(file, target);
    let mut snapshot_note = None;
    if report.passed() && !report.transcript.is_empty() {
        if write {
            if let Err(e) = snapshot::write(&path, &report.transcript) {
                report.failures.push(failure(
                    "snapshot",
                    format!("cannot write {}: {e}", path.display()),
                ));
            }
        } else {
            match snapshot::read(&path) {
                None => snapshot_note = Some("no snapshot".to_owned()),
                Some(stored) if snapshot::same(&stored, &report.transcript) => {}
                Some(stored) => report.failures.push(failure(
                    "snapshot",
                    format!(
                        "{}\n  (accept with `cargo insta review` after `cargo test --test scenarios`, or `cattackle test --write-snapshots`)",
                        diff_text(&stored, &report.transcript, &path)
                    ),
                )),
            }
        }
    }
    Outcome {
        report,
        path: file.path.clone(),
        snapshot_note,
    }
}

fn failure(at: &str, message: String) -> cattackle_harness::harness::Failure {
    cattackle_harness::harness::Failure {
        at: at.to_owned(),
        message,
    }
}

fn diff_text(stored: &str, actual: &str, path: &std::path::Path) -> String {
    let diff = similar::TextDiff::from_lines(stored.trim(), actual.trim());
    let mut out = format!(
        "the transcript differs from {} (- stored, + now):\n",
        path.display()
    );
    for hunk in diff.unified_diff().context_radius(2).iter_hunks() {
        out.push_str(&hunk.to_string());
    }
    out
}

fn print_progress(done: usize, total: usize, outcome: &Outcome) {
    let r = &outcome.report;
    let status = if r.passed() { "ok    " } else { "FAILED" };
    let clock = match r.clock {
        cattackle_harness::scenario::model::Clock::Virtual => "virtual",
        cattackle_harness::scenario::model::Clock::Real => "real",
    };
    let note = outcome
        .snapshot_note
        .as_ref()
        .map(|n| format!(", {n}"))
        .unwrap_or_default();
    println!(
        "[{done:>3}/{total}] {status} {} ({} {clock}, {} wall{note})",
        r.name,
        Dur(round_ms(r.clock_time)),
        Dur(round_ms(r.wall_time)),
    );
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

fn summarize(outcomes: &[Outcome], wall: Duration, seed: Option<u64>) -> u8 {
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.report.passed()).collect();
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
    let covered: Duration = outcomes.iter().map(|o| o.report.clock_time).sum();
    let passed = outcomes.len() - failed.len();
    println!(
        "\ntest result: {}. {passed} passed, {} failed; {} of scenario time in {} wall time",
        if failed.is_empty() { "ok" } else { "FAILED" },
        failed.len(),
        human(covered),
        human(wall),
    );
    if failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
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

fn show_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The directory trial names are relative to: the one directory given, else the current one.
fn common_root(paths: &[PathBuf]) -> PathBuf {
    match paths {
        [one] if one.is_dir() => one.clone(),
        [one] => one.parent().map(PathBuf::from).unwrap_or_default(),
        _ => PathBuf::new(),
    }
}
