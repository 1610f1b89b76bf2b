//! Every scenario under `scenarios/` as a test: one trial per scenario and transport, named after
//! its path (`retry/timeout-then-success@stdio`), asserted with insta snapshots. Files under
//! `scenarios/invalid/` must fail to load; their diagnostics are snapshots too. A last trial
//! fails on snapshot files that no trial uses.
//!
//! `cargo test --test scenarios [FILTER] [--exact] [--list]`; `cargo insta review` accepts changes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use cattackle_harness::harness::{RunOptions, run, snapshot};
use cattackle_harness::scenario::{TrialTarget, collect_files, load_file};
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
    let expected = Arc::new(Mutex::new(BTreeSet::new()));
    let mut trials = Vec::new();
    for path in collect_files(std::slice::from_ref(&root)).expect("cannot read scenarios/") {
        match load_file(&path, &root) {
            Ok(file) => {
                let file = Arc::new(file);
                for target in file.targets() {
                    let snap = snapshot::path(&file, target);
                    expected.lock().unwrap().insert(snap.clone());
                    let file = file.clone();
                    let name = format!("{}@{}", file.id, target.as_str());
                    trials.push(Trial::test(name, move || {
                        let real = matches!(target, TrialTarget::Real(_));
                        let report = run(&file, target, options(real));
                        if !report.passed() {
                            let lines: Vec<String> = report
                                .failures
                                .iter()
                                .map(|f| format!("{}: {}", f.at, f.message))
                                .collect();
                            return Err(Failed::from(format!(
                                "{}\nreproduce: cargo run -- test {} --seed {}\ntranscript:\n{}",
                                lines.join("\n"),
                                file.path.display(),
                                report.seed,
                                report.transcript
                            )));
                        }
                        assert_snapshot(&snap, &report.transcript);
                        Ok(())
                    }));
                }
            }
            Err(e) => {
                let name = path.with_extension("").display().to_string();
                let message = e.render();
                trials.push(Trial::test(name, move || Err(Failed::from(message))));
            }
        }
    }
    trials.extend(invalid_trials(&root, &expected));
    let all = expected.clone();
    trials.push(Trial::test("snapshots::unreferenced", move || {
        unreferenced(&root, &all.lock().unwrap())
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

/// Files under `scenarios/invalid/` must fail to load; the diagnostic is pinned.
fn invalid_trials(root: &Path, expected: &Mutex<BTreeSet<PathBuf>>) -> Vec<Trial> {
    let dir = root.join("invalid");
    if !dir.is_dir() {
        return Vec::new();
    }
    let files = collect_files(std::slice::from_ref(&dir)).expect("cannot read scenarios/invalid");
    files
        .into_iter()
        .map(|path| {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let snap = dir.join("snapshots").join(format!("{stem}.snap"));
            expected.lock().unwrap().insert(snap.clone());
            let root = root.to_path_buf();
            Trial::test(format!("invalid/{stem}"), move || {
                match load_file(&path, &root) {
                    Ok(_) => Err(Failed::from(format!(
                        "{} loaded, but must not",
                        path.display()
                    ))),
                    Err(e) => {
                        assert_snapshot(&snap, &e.render());
                        Ok(())
                    }
                }
            })
        })
        .collect()
}

/// Snapshot files no trial uses (a renamed or deleted scenario) fail the run.
fn unreferenced(root: &Path, expected: &BTreeSet<PathBuf>) -> Result<(), Failed> {
    let mut stray = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| Failed::from(e.to_string()))? {
            let path = entry.map_err(|e| Failed::from(e.to_string()))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "snap") && !expected.contains(&path) {
                stray.push(path.display().to_string());
            }
        }
    }
    if stray.is_empty() {
        Ok(())
    } else {
        stray.sort();
        Err(Failed::from(format!(
            "snapshot files that no trial uses (delete them):\n  {}",
            stray.join("\n  ")
        )))
    }
}
