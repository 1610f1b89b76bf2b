//! Real processes over stdio: the echo cattackle, a silent child, a launcher with a grandchild.
//! These run on real time (a paused clock cannot drive real pipes).

use std::time::{Duration, Instant};

use cattackle_harness::config::CattackleConfig;
use cattackle_harness::manager::{CattackleError, ErrorKind, McpClientManager, Payload, Phase};

use crate::support::config_with;
use crate::support::processes::{echo_binary, gone_within, is_running};

const GRACE: Duration = Duration::from_millis(500);

fn echo_config(mcp: &str) -> CattackleConfig {
    let binary = echo_binary();
    let mut cfg = config_with(
        mcp,
        &format!(
            "type = \"stdio\"\ncommand = {:?}\nargs = [\"--transport\", \"stdio\"]",
            binary.display().to_string()
        ),
    );
    cfg.name = "echo".to_owned();
    cfg.commands.insert(
        "ping".to_owned(),
        cattackle_harness::config::CommandConfig {
            idempotent: true,
            description: "ping".to_owned(),
        },
    );
    cfg
}

fn sh_config(script: &str, mcp: &str) -> CattackleConfig {
    config_with(
        mcp,
        &format!("type = \"stdio\"\ncommand = \"sh\"\nargs = [\"-c\", {script:?}]"),
    )
}

#[tokio::test]
async fn echo_over_stdio_and_one_process_for_many_calls() {
    let manager = McpClientManager::new();
    let cfg = echo_config("");
    let got = manager
        .call(&cfg, "echo", Payload::text("hello"))
        .await
        .unwrap();
    assert_eq!(
        (got.data.as_str(), got.error.as_deref(), got.is_error),
        ("hello", None, false)
    );
    let pid = manager
        .session_pid("echo")
        .await
        .expect("a process-backed session");
    for i in 0..20 {
        let got = manager
            .call(
                &cfg,
                "echo",
                Payload::text("x").with_accumulated_params([format!("{i}"), "b".into()]),
            )
            .await
            .unwrap();
        assert_eq!(got.data, format!("{i}; b"));
    }
    assert_eq!(
        manager.session_pid("echo").await,
        Some(pid),
        "same process for every call"
    );
    assert_eq!(manager.sessions_opened(), 1);
    let pong = manager.call(&cfg, "ping", Payload::text("")).await.unwrap();
    assert_eq!(pong.data, "pong");
    manager.close_all_sessions(GRACE).await;
    assert!(
        gone_within(pid, Duration::from_secs(2)).await,
        "the child exits on close"
    );
}

#[tokio::test]
async fn a_child_killed_between_calls_is_detected_and_replaced() {
    let manager = McpClientManager::new();
    let cfg = echo_config("");
    manager
        .call(&cfg, "echo", Payload::text("one"))
        .await
        .unwrap();
    let first = manager.session_pid("echo").await.unwrap();
    // SAFETY: plain kill(2) of our own child.
    unsafe { libc::kill(first as i32, libc::SIGKILL) };
    assert!(gone_within(first, Duration::from_secs(2)).await);
    let start = Instant::now();
    let got = manager
        .call(&cfg, "echo", Payload::text("two"))
        .await
        .unwrap();
    assert_eq!(got.data, "two");
    assert!(
        start.elapsed() < Duration::from_millis(900),
        "no backoff was paid: {:?}",
        start.elapsed()
    );
    let second = manager.session_pid("echo").await.unwrap();
    assert_ne!(first, second);
    assert_eq!(manager.sessions_opened(), 2);
    manager.close_all_sessions(GRACE).await;
}

#[tokio::test]
async fn a_missing_executable_fails_typed_and_fast() {
    let manager = McpClientManager::new();
    let cfg = config_with(
        "max_retries = 1\nbackoff = { base = 0.01 }",
        "type = \"stdio\"\ncommand = \"/nonexistent/cattackle-binary\"",
    );
    let start = Instant::now();
    let err = manager
        .call(&cfg, "echo", Payload::text("x"))
        .await
        .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    let CattackleError::Exhausted {
        attempts,
        last,
        reached,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*attempts, *reached), (2, false));
    assert_eq!(last.kind(), ErrorKind::NotSent);
    assert_eq!(
        err.to_string(),
        "Failed to execute cattackle 'mock': cattackle 'mock' could not be started: failed to start `/nonexistent/cattackle-binary`: No such file or directory (os error 2)"
    );
}

#[tokio::test]
async fn a_tool_the_server_lacks_is_a_typed_jsonrpc_error() {
    let manager = McpClientManager::new();
    let mut cfg = echo_config("max_retries = 0");
    cfg.commands.insert(
        "missing".to_owned(),
        cattackle_harness::config::CommandConfig {
            idempotent: true,
            description: "declared, not served".to_owned(),
        },
    );
    let err = manager
        .call(&cfg, "missing", Payload::text("x"))
        .await
        .unwrap_err();
    let CattackleError::Exhausted { last, .. } = &err else {
        panic!("{err:?}")
    };
    let CattackleError::JsonRpc { code, .. } = **last else {
        panic!("{last:?}")
    };
    assert_eq!(
        code, -32602,
        "rmcp answers an unknown tool with invalid params"
    );
    manager.close_all_sessions(GRACE).await;
}

#[tokio::test]
async fn a_child_that_never_answers_the_handshake_fails_within_connect_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let script = format!(
        "echo $$ > {}; echo 'starting up' >&2; exec sleep 60",
        pidfile.display()
    );
    let manager = McpClientManager::new();
    let cfg = sh_config(
        &script,
        "connect_timeout = 0.5\nmax_retries = 0\nshutdown_grace = 0.2",
    );
    let start = Instant::now();
    let err = manager
        .call(&cfg, "echo", Payload::text("x"))
        .await
        .unwrap_err();
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
    let CattackleError::Exhausted { last, .. } = &err else {
        panic!("{err:?}")
    };
    let CattackleError::TimedOut {
        phase: Phase::Handshake,
        context,
        ..
    } = &**last
    else {
        panic!("{last:?}")
    };
    assert!(
        context
            .as_deref()
            .is_some_and(|c| c.contains("starting up")),
        "stderr tail attached: {context:?}"
    );
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    manager.close_all_sessions(GRACE).await;
    assert!(!is_running(pid), "the silent child was killed");
}

#[tokio::test]
async fn a_child_that_dies_before_the_handshake_reports_its_stderr() {
    let manager = McpClientManager::new();
    let cfg = sh_config(
        "echo 'ImportError: no module named mcp' >&2; exit 3",
        "max_retries = 0",
    );
    let err = manager
        .call(&cfg, "echo", Payload::text("x"))
        .await
        .unwrap_err();
    let CattackleError::Exhausted { last, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(last.kind(), ErrorKind::NotSent);
    assert!(
        err.to_string().contains("ImportError: no module named mcp"),
        "{err}"
    );
}

#[tokio::test]
async fn close_all_sessions_leaves_no_child_or_grandchild() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    // A launcher: the shell starts a background grandchild, then becomes the cattackle.
    let script = format!(
        "sleep 300 </dev/null >/dev/null 2>&1 & echo $! > {pids}; exec {echo} --transport stdio",
        pids = pids.display(),
        echo = echo_binary().display()
    );
    let manager = McpClientManager::new();
    let cfg = sh_config(&script, "");
    manager
        .call(&cfg, "echo", Payload::text("x"))
        .await
        .unwrap();
    let child = manager.session_pid("mock").await.unwrap();
    let grandchild: u32 = std::fs::read_to_string(&pids)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(is_running(child) && is_running(grandchild));
    let start = Instant::now();
    manager.close_all_sessions(GRACE).await;
    assert!(
        start.elapsed() < GRACE + Duration::from_secs(1),
        "close is bounded: {:?}",
        start.elapsed()
    );
    assert!(
        gone_within(child, Duration::from_secs(2)).await,
        "child {child} still running"
    );
    assert!(
        gone_within(grandchild, Duration::from_secs(2)).await,
        "grandchild {grandchild} still running"
    );
}

#[tokio::test]
async fn close_kills_a_grandchild_that_left_the_group_with_setsid() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    // `setsid` puts the grandchild in a session (and group) of its own: a group kill misses it.
    let script = format!(
        "setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! > {pids}; exec {echo} --transport stdio",
        pids = pids.display(),
        echo = echo_binary().display()
    );
    let manager = McpClientManager::new();
    let cfg = sh_config(&script, "");
    manager
        .call(&cfg, "echo", Payload::text("x"))
        .await
        .unwrap();
    let escaped: u32 = std::fs::read_to_string(&pids)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(is_running(escaped));
    manager.close_all_sessions(GRACE).await;
    assert!(
        gone_within(escaped, Duration::from_secs(2)).await,
        "the setsid grandchild {escaped} still runs"
    );
}

#[tokio::test]
async fn a_stubborn_child_is_killed_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    // Ignores SIGTERM and stdin EOF: only the group kill ends it.
    let script = format!(
        "trap '' TERM; echo $$ > {}; {} --transport stdio; sleep 300",
        pidfile.display(),
        echo_binary().display()
    );
    let manager = McpClientManager::new();
    let cfg = sh_config(&script, "");
    manager
        .call(&cfg, "echo", Payload::text("x"))
        .await
        .unwrap();
    let shell: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let start = Instant::now();
    manager.close_all_sessions(Duration::from_millis(300)).await;
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1500),
        "{took:?}"
    );
    assert!(gone_within(shell, Duration::from_secs(2)).await);
}

#[tokio::test]
async fn thirty_two_concurrent_first_calls_spawn_one_process() {
    let manager = McpClientManager::new();
    let cfg = echo_config("");
    let calls = (0..32).map(|i| manager.call(&cfg, "echo", Payload::text(format!("m{i}"))));
    let results = futures::future::join_all(calls).await;
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(r.unwrap().data, format!("m{i}"));
    }
    assert_eq!(manager.sessions_opened(), 1);
    manager.close_all_sessions(GRACE).await;
}

#[tokio::test]
async fn env_and_cwd_reach_the_child() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("seen");
    let script = format!(
        "printf '%s %s' \"$CATTACKLE_TEST_VALUE\" \"$(pwd)\" > {}; exec {} --transport stdio",
        out.display(),
        echo_binary().display()
    );
    let mut cfg = sh_config(&script, "");
    if let cattackle_harness::config::TransportConfig::Stdio(s) = &mut cfg.mcp.transport {
        s.env = [("CATTACKLE_TEST_VALUE".to_owned(), "v42".to_owned())]
            .into_iter()
            .collect();
        s.cwd = Some(dir.path().to_owned());
    }
    let manager = McpClientManager::new();
    manager
        .call(&cfg, "echo", Payload::text("x"))
        .await
        .unwrap();
    manager.close_all_sessions(GRACE).await;
    let seen = std::fs::read_to_string(&out).unwrap();
    let cwd = dir.path().canonicalize().unwrap();
    assert_eq!(seen, format!("v42 {}", cwd.display()));
}
