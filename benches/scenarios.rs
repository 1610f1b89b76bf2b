//! Throughput of the scenario runner: every shipped in-process scenario (mock over an in-memory
//! pipe, virtual clock), run again and again in one process.
//!
//! Reports scenarios per second (one thread, and one thread per CPU) and the ratio of virtual
//! time covered (timeouts, backoff, delays) to wall time. Targets: ≥ 100 scenarios/s on 2 cores,
//! ratio > 1000.
//!
//! `cargo bench --bench scenarios` (ROUNDS=n to change the number of passes, default 20).
#![expect(clippy::print_stdout, reason = "a benchmark prints its results")]

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cattackle_harness::harness::RunOptions;
use cattackle_harness::trial::{Suite, Trial, default_jobs, run_pool};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let suite = Suite::load(std::slice::from_ref(&root)).expect("scenarios/");
    let trials: Vec<Trial> = suite
        .trials()
        .into_iter()
        .filter(|t| t.target.in_process())
        .collect();
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let options = RunOptions::default();
    println!("{} in-process trials × {rounds} rounds", trials.len());

    // Warm-up.
    for trial in &trials {
        assert!(trial.run(&options).passed(), "{} fails", trial.name());
    }

    let runs: Vec<&Trial> = (0..rounds).flat_map(|_| trials.iter()).collect();
    for workers in [1, default_jobs()] {
        let covered = Mutex::new(Duration::ZERO);
        let start = Instant::now();
        run_pool(
            &runs,
            workers,
            |trial| trial.run(&options).clock_time,
            |time, _| *covered.lock().unwrap() += *time,
        );
        let wall = start.elapsed();
        let runs = trials.len() * rounds;
        let covered = covered.into_inner().unwrap();
        println!(
            "{workers} thread(s): {runs} runs in {:.3} s = {:.0} scenarios/s; {:.1} s virtual covered, ratio {:.0}×",
            wall.as_secs_f64(),
            runs as f64 / wall.as_secs_f64(),
            covered.as_secs_f64(),
            covered.as_secs_f64() / wall.as_secs_f64(),
        );
    }
}
