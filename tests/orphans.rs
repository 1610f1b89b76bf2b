//! The orphan count: cycles of spawn, call and close through the manager over four launchers
//! (`sh -c … exec`, a forking child, a `setsid` grandchild, a child that ignores SIGTERM and
//! stdin's end), then `cattackle call` runs interrupted by SIGINT or SIGTERM mid-call. Every
//! process they started is written down by pid; the count still running at the end is the
//! figure, and must be 0.
//!
//! `cargo test --test orphans` runs 100 cycles and 10 signalled runs (CI);
//! `ORPHAN_CYCLES=1000 ORPHAN_SIGNALS=50 cargo test --release --test orphans` the full count.

#![expect(clippy::print_stdout, reason = "the count is the figure it prints")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cattackle_harness::config::load_str;
use cattackle_harness::manager::{McpClientManager, Payload};

#[path = "support/processes.rs"]
#[expect(
    dead_code,
    unreachable_pub,
    reason = "shared with the integration tests"
)]
mod processes;

use processes::{echo_binary, is_running, pids_in};

const CATTACKLE: &str = env!("CARGO_BIN_EXE_cattackle");

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn toml(name: &str, script: &str, mcp: &str) -> String {
    format!(
        "[cattackle]\nname = \"{name}\"\nversion = \"1\"\ndescription = \"d\"\n\
         [cattackle.commands]\necho = {{ description = \"e\" }}\n\
         [cattackle.mcp]\n{mcp}\n\
         [cattackle.mcp.transport]\ntype = \"stdio\"\ncommand = \"sh\"\nargs = [\"-c\", {script:?}]\n"
    )
}

/// The four launchers; each writes the pids it starts to `pids`.
fn launchers(pids: &Path, echo: &Path) -> Vec<(&'static str, String)> {
    let (p, e) = (pids.display(), echo.display());
    let quiet = "</dev/null >/dev/null 2>&1";
    vec![
        (
            "exec",
            format!("echo $$ >> {p}; exec {e} --transport stdio"),
        ),
        (
            "forking",
            format!(
                "sleep 300 {quiet} & echo $! >> {p}; echo $$ >> {p}; exec {e} --transport stdio"
            ),
        ),
        (
            "setsid",
            format!(
                "setsid sleep 300 {quiet} & echo $! >> {p}; echo $$ >> {p}; exec {e} --transport stdio"
            ),
        ),
        (
            "ignores-sigterm",
            format!("trap '' TERM; echo $$ >> {p}; {e} --transport stdio; sleep 300"),
        ),
    ]
}

/// The pids still running once `limit` has passed or none is.
fn survivors(pids: &[u32], limit: Duration) -> Vec<u32> {
    let start = Instant::now();
    loop {
        let running: Vec<u32> = pids.iter().copied().filter(|p| is_running(*p)).collect();
        if running.is_empty() || start.elapsed() > limit {
            return running;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn cycles(n: usize, dir: &Path) -> (Vec<u32>, Duration) {
    let pids = dir.join("cycle-pids");
    let echo = echo_binary();
    let configs: Vec<_> = launchers(&pids, &echo)
        .into_iter()
        .map(|(name, script)| {
            let text = toml(name, &script, "max_retries = 0\nshutdown_grace = 0.05");
            load_str("cattackle.toml", &text).expect("config").config
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let began = Instant::now();
    runtime.block_on(async {
        let manager = McpClientManager::new();
        for i in 0..n {
            let config = &configs[i % configs.len()];
            let got = manager.call(config, "echo", Payload::text("x")).await;
            assert_eq!(
                got.map(|r| r.data).ok().as_deref(),
                Some("x"),
                "cycle {i} ({})",
                config.name
            );
            manager
                .close_session(&config.name, Duration::from_millis(50))
                .await;
        }
    });
    (pids_in(&pids), began.elapsed())
}

fn hanging_cattackle(dir: &Path, pids: &Path) -> PathBuf {
    let scenario = dir.join("hang.yaml");
    std::fs::write(
        &scenario,
        "name: never answers\ncattackle: { file: cattackle.toml }\n\
         faults:\n  - match: { tool: echo }\n    hang: true\nsteps: []\n",
    )
    .unwrap();
    let quiet = "</dev/null >/dev/null 2>&1";
    let script = format!(
        "echo $$ >> {p}; sleep 300 {quiet} & echo $! >> {p}; setsid sleep 300 {quiet} & echo $! >> {p}; \
         exec {CATTACKLE} mock-server {s}",
        p = pids.display(),
        s = scenario.display()
    );
    std::fs::write(
        dir.join("cattackle.toml"),
        toml("hang", &script, "timeout = 60\nmax_retries = 0"),
    )
    .unwrap();
    dir.to_owned()
}

fn signalled(n: usize, dir: &Path) -> Vec<u32> {
    let pids = dir.join("signal-pids");
    let cattackle = hanging_cattackle(dir, &pids);
    for i in 0..n {
        let before = pids_in(&pids).len();
        let mut child = Command::new(CATTACKLE)
            .args([
                "call",
                &cattackle.display().to_string(),
                "echo",
                "--text",
                "x",
            ])
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while pids_in(&pids).len() < before + 3 && start.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(10));
        }
        // Mid-call: the handshake is done and the tools/call waits for an answer.
        std::thread::sleep(Duration::from_millis(150));
        let signal = if i % 2 == 0 {
            libc::SIGINT
        } else {
            libc::SIGTERM
        };
        // SAFETY: kill has no memory-safety preconditions.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(128 + signal), "run {i}");
    }
    pids_in(&pids)
}

fn orphan_count() -> Result<(), String> {
    let (n_cycles, n_signals) = (count("ORPHAN_CYCLES", 100), count("ORPHAN_SIGNALS", 10));
    let dir = tempfile::tempdir().unwrap();
    let (started, took) = cycles(n_cycles, dir.path());
    let left = survivors(&started, Duration::from_secs(3));
    println!(
        "orphans: {n_cycles} cycles over 4 launchers in {:.1} s: {} processes started, {} still running {left:?}",
        took.as_secs_f64(),
        started.len(),
        left.len()
    );
    let signal_dir = dir.path().join("signals");
    std::fs::create_dir_all(&signal_dir).unwrap();
    let started_by_signalled = signalled(n_signals, &signal_dir);
    let left_by_signalled = survivors(&started_by_signalled, Duration::from_secs(3));
    println!(
        "orphans: {n_signals} calls stopped by SIGINT/SIGTERM: {} processes started, {} still running {left_by_signalled:?}",
        started_by_signalled.len(),
        left_by_signalled.len()
    );
    if left.is_empty() && left_by_signalled.is_empty() {
        return Ok(());
    }
    for pid in left.iter().chain(&left_by_signalled) {
        // SAFETY: kill has no memory-safety preconditions; these pids were ours.
        unsafe {
            libc::kill(*pid as i32, libc::SIGKILL);
        }
    }
    Err(format!(
        "processes survived (killed now): {left:?} after cycles, {left_by_signalled:?} after signals"
    ))
}

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let trial = libtest_mimic::Trial::test("orphan count", || Ok(orphan_count()?));
    libtest_mimic::run(&args, vec![trial]).exit();
}
