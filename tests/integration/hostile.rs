//! Hostile servers (`fixtures/hostile/server.py`): each bound holds, and the client's peak
//! memory stays small. Peak RSS is the `cattackle call` process's own, from `wait4`.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cattackle_harness::manager::{ErrorKind, ManagerEvent, McpClientManager, Payload};

use crate::support::config_with;

fn hostile(mode: &str, timeout: f64) -> cattackle_harness::config::CattackleConfig {
    config_with(
        &format!("timeout = {timeout}\nmax_retries = 0\nshutdown_grace = 0.2"),
        &format!(
            "type = \"stdio\"\ncommand = \"python3\"\nargs = [\"fixtures/hostile/server.py\", \"{mode}\"]"
        ),
    )
}

/// Runs `cattackle call` against `mode` for a call bounded by 3 s; its exit code, peak RSS in
/// KiB, and stderr.
#[expect(
    clippy::zombie_processes,
    reason = "reaped by wait4, which also gives its rusage"
)]
fn call_peak_rss(mode: &str) -> (i32, i64, String) {
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::write(
        dir.path().join("cattackle.toml"),
        format!(
            "[cattackle]\nname = \"hostile\"\nversion = \"1\"\ndescription = \"d\"\n\
             [cattackle.commands]\necho = {{ description = \"e\" }}\n\
             [cattackle.mcp]\ntimeout = 3\nmax_retries = 0\nshutdown_grace = 0.2\n\
             [cattackle.mcp.transport]\ntype = \"stdio\"\ncommand = \"python3\"\n\
             args = [\"{root}/fixtures/hostile/server.py\", \"{mode}\"]\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cattackle"))
        .args([
            "call",
            &dir.path().display().to_string(),
            "echo",
            "--text",
            "x",
        ])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).unwrap();
        text
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for this child only.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; the pointers are to live locals.
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage.ru_maxrss, reader.join().unwrap())
}

#[test]
fn a_server_flooding_pings_while_not_reading_costs_bounded_memory() {
    let (code, peak_kib, stderr) = call_peak_rss("flood-pings");
    eprintln!("flood-pings: peak RSS {peak_kib} KiB");
    assert_eq!(code, 4, "the call times out (exit 4): {stderr}");
    assert!(stderr.contains("dropping its further requests"), "{stderr}");
    // Unbounded, rmcp reached 1.3 GB within 5 s here; bounded it stays near its idle size.
    assert!(peak_kib < 100 * 1024, "peak RSS {peak_kib} KiB: {stderr}");
}

#[test]
fn a_server_flooding_notifications_costs_bounded_memory() {
    let (code, peak_kib, stderr) = call_peak_rss("flood-notifications");
    eprintln!("flood-notifications: peak RSS {peak_kib} KiB");
    assert_eq!(code, 4, "the call times out (exit 4): {stderr}");
    assert!(peak_kib < 100 * 1024, "peak RSS {peak_kib} KiB: {stderr}");
}

#[tokio::test]
async fn the_flood_is_counted_and_the_next_session_answers() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let manager = McpClientManager::new().with_observer(Arc::new(move |e: &ManagerEvent| {
        seen.lock().unwrap().push(e.clone());
    }));
    let cfg = hostile("flood-pings", 1.0);
    let err = manager
        .call(&cfg, "echo", Payload::text("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Exhausted, "{err}");
    assert!(err.to_string().contains("timed out after 1.0s"), "{err}");
    manager.close_all_sessions(Duration::from_millis(200)).await;
    let dropped: Vec<u64> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            ManagerEvent::ServerRequestsDropped { dropped, .. } => Some(*dropped),
            _ => None,
        })
        .collect();
    assert_eq!(dropped.len(), 1, "{:?}", events.lock().unwrap());
    assert!(dropped[0] > 1000, "{dropped:?}");
    let metrics = manager.metrics_text();
    assert!(
        metrics.contains("cattackle_server_requests_dropped_total{cattackle=\"mock\"}"),
        "{metrics}"
    );
}
