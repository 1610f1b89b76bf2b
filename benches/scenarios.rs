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

use cattackle_harness::harness::{RunOptions, run};
use cattackle_harness::scenario::{ScenarioFile, TrialTarget, collect_files, load_file};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let trials: Vec<(ScenarioFile, TrialTarget)> = collect_files(std::slice::from_ref(&root))
        .expect("scenarios/")
        .iter()
        .filter_map(|path| load_file(path, &root).ok())
        .flat_map(|file| {
            let targets: Vec<TrialTarget> = file
                .targets()
                .into_iter()
                .filter(|t| t.in_process())
                .collect();
            targets.into_iter().map(move |t| (file.clone(), t))
        })
        .collect();
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let options = RunOptions::default();
    println!("{} in-process trials × {rounds} rounds", trials.len());

    // Warm-up.
    for (file, target) in &trials {
        assert!(run(file, *target, &options).passed(), "{} fails", file.id);
    }

    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    for workers in [1, threads] {
        let queue = Mutex::new((0..rounds).flat_map(|_| trials.iter()));
        let covered = Mutex::new(Duration::ZERO);
        let start = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let next = queue.lock().unwrap().next();
                        let Some((file, target)) = next else { break };
                        let report = run(file, *target, &options);
                        *covered.lock().unwrap() += report.clock_time;
                    }
                });
            }
        });
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
