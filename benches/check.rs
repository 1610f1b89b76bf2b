//! Wall time of the full conformance pack against `echo-cattackle` over stdio, as
//! `cattackle check cattackles/echo` runs it (current-thread runtime, 4 checks at once).
//! Target: under 3 s.
//!
//! `cargo bench --bench check` (ROUNDS=n, default 5). Needs `cargo build --bins` first (the
//! pack spawns the `echo-cattackle` binary).
#![expect(clippy::print_stdout, reason = "a benchmark prints its results")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cattackle_harness::check::{Options, Pack, Selection, Status, Target, run_suite};
use cattackle_harness::config::load_path;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dirs: Vec<PathBuf> = ["target/release", "target/debug"]
        .iter()
        .map(|d| root.join(d))
        .collect();
    let loaded = load_path(root.join("cattackles/echo")).expect("cattackles/echo");
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pack = Pack::default();
    let mut took: Vec<Duration> = Vec::new();
    for _ in 0..rounds {
        let target = Target::cattackle(loaded.config.clone(), dirs.clone());
        let began = Instant::now();
        let suite = runtime.block_on(run_suite(
            target,
            Options::default(),
            &Selection::default(),
            &pack,
        ));
        took.push(began.elapsed());
        let failed: Vec<_> = suite
            .results
            .iter()
            .filter(|r| r.status == Status::Fail)
            .map(|r| &r.id)
            .collect();
        assert!(
            suite.reachable && failed.is_empty(),
            "the pack fails on echo-cattackle: {failed:?}"
        );
    }
    took.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "check pack on echo-cattackle (stdio), {rounds} rounds: median {:.0} ms, best {:.0} ms, worst {:.0} ms (target < 3000 ms)",
        ms(took[took.len() / 2]),
        ms(took[0]),
        ms(took[took.len() - 1])
    );
}
