//! Every scenario under `scenarios/` as a test: one trial per scenario and transport, named after
//! its path (`retry/timeout-then-success@stdio`), asserted with insta snapshots. The trials
//! themselves (discovery, naming, running, stray snapshots) are the library's `trial` model, as
//! `cattackle test` uses it; this file only adapts them to libtest-mimic and insta. Files under
//! `scenarios/invalid/` must fail to load; their diagnostics are snapshots too. A last trial
//! fails on snapshot files that no trial uses.
//!
//! `cargo test --test scenarios [FILTER] [--exact] [--list]`; `cargo insta review` accepts changes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cattackle_harness::harness::RunOptions;
use cattackle_harness::scenario::{TrialTarget, load_file};
use cattackle_harness::trial::{Suite, expected_snapshots, invalid_cases, stray_snapshots};
use libtest_mimic::{Arguments, Failed, Trial};

#[path = "support/processes.rs"]
#[allow(
    dead_code,
    unreachable_pub,
    reason = "shared with the integration tests; only echo_binary is used here"
)]
mod processes;

use processes::echo_binary;

const ROOT: &str = "scenarios";

fn main() {
    let args = Arguments::from_args();
    let root = PathBuf::from(ROOT);
    let suite = Suite::load(std::slice::from_ref(&root)).expect("cannot read scenarios/");
    let mut trials = Vec::new();
    for trial in suite.trials() {
        let snap = trial.snapshot_path();
        // Runs where its peers are installed (CI installs them); elsewhere it says what to run.
        let skipped = trial.file.missing_requirement(trial.target);
        let kind = skipped.clone().unwrap_or_default();
        trials.push(
            Trial::test(trial.name(), move || {
                let real = matches!(trial.target, TrialTarget::Real(_));
                let report = trial.run(options(real));
                if !report.passed() {
                    let lines: Vec<String> = report
                        .failures
                        .iter()
                        .map(|f| format!("{}: {}", f.at, f.message))
                        .collect();
                    return Err(Failed::from(format!(
                        "{}\nreproduce: cargo run -- test {} --seed {}\ntranscript:\n{}",
                        lines.join("\n"),
                        trial.file.path.display(),
                        report.seed,
                        report.transcript
                    )));
                }
                assert_snapshot(&snap, &report.transcript);
                Ok(())
            })
            .with_kind(kind)
            .with_ignored_flag(skipped.is_some()),
        );
    }
    for (path, e) in &suite.invalid {
        let name = path.with_extension("").display().to_string();
        let message = e.render();
        trials.push(Trial::test(name, move || Err(Failed::from(message))));
    }
    for case in invalid_cases(std::slice::from_ref(&root)).expect("cannot read scenarios/invalid") {
        let root = root.clone();
        trials.push(Trial::test(case.name.clone(), move || {
            match load_file(&case.path, &root) {
                Ok(_) => Err(Failed::from(format!(
                    "{} loaded, but must not",
                    case.path.display()
                ))),
                Err(e) => {
                    assert_snapshot(&case.snapshot, &e.render());
                    Ok(())
                }
            }
        }));
    }
    trials.push(Trial::test("snapshots::unreferenced", move || {
        let expected = expected_snapshots(&suite).map_err(|e| Failed::from(e.to_string()))?;
        let stray =
            stray_snapshots(&suite.dirs, &expected).map_err(|e| Failed::from(e.to_string()))?;
        if stray.is_empty() {
            return Ok(());
        }
        let stray: Vec<String> = stray.iter().map(|p| p.display().to_string()).collect();
        Err(Failed::from(format!(
            "snapshot files that no trial uses (delete them):\n  {}",
            stray.join("\n  ")
        )))
    }));
    libtest_mimic::run(&args, trials).exit();
}

/// Built on first use: only trials that run real cattackles need `echo-cattackle` built (under
/// cargo-nextest each trial is a process of its own).
fn options(real: bool) -> &'static RunOptions {
    static MOCK: OnceLock<RunOptions> = OnceLock::new();
    static REAL: OnceLock<RunOptions> = OnceLock::new();
    if real {
        REAL.get_or_init(|| build_options(true))
    } else {
        MOCK.get_or_init(|| build_options(false))
    }
}

fn build_options(real: bool) -> RunOptions {
    let cattackle = PathBuf::from(env!("CARGO_BIN_EXE_cattackle"));
    let mut program_dirs: Vec<PathBuf> = cattackle
        .parent()
        .map(Path::to_path_buf)
        .into_iter()
        .collect();
    if real && let Some(dir) = echo_binary().parent() {
        program_dirs.insert(0, dir.to_path_buf());
    }
    RunOptions {
        seed: None,
        program_dirs,
        mock_program: Some(cattackle),
        trial_timeout: Some(std::time::Duration::from_secs(120)),
    }
}

fn assert_snapshot(path: &Path, transcript: &str) {
    let dir = path.parent().expect("snapshots dir").to_path_buf();
    let name = path
        .file_stem()
        .expect("snapshot name")
        .to_string_lossy()
        .into_owned();
    insta::with_settings!({
        snapshot_path => std::env::current_dir().unwrap().join(dir),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, transcript);
    });
}
