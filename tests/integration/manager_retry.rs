//! Retries, backoff and timeouts on an in-memory transport under a paused clock: exact attempt
//! counts, exact schedules, the original's exhaustion messages.

use std::time::Duration;

use cattackle_harness::config::{BackoffConfig, Jitter};
use cattackle_harness::manager::{
    Backoff, CattackleError, ErrorKind, McpClientManager, Payload, Phase,
};
use cattackle_harness::transport::{ConnectError, Connection, MemoryConnector};
use tokio::time::Instant;

use crate::support::config;
use crate::support::rmcp_peer::{Mock, Step, ok, text};

fn hello() -> Payload {
    Payload::text("hello")
}

fn secs(at: &[f64]) -> Vec<f64> {
    at.iter().map(|t| (t * 1000.0).round() / 1000.0).collect()
}

#[tokio::test(start_paused = true)]
async fn default_schedule_is_1_2_4_seconds_and_exhaustion_uses_the_originals_message() {
    let mock = Mock::new(Step::Error(-32603, "boom"));
    let manager = mock.manager();
    let start = Instant::now();
    let err = manager
        .call(&config(""), "echo", hello())
        .await
        .unwrap_err();
    assert_eq!(secs(&mock.times()), [0.0, 1.0, 3.0, 7.0]);
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(7),
        "no sleep after the last attempt"
    );
    assert_eq!(
        err.to_string(),
        "Failed to execute cattackle 'mock': cattackle 'mock' returned JSON-RPC error -32603: boom"
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
    assert_eq!((*attempts, *reached), (4, true));
    assert_eq!(last.kind(), ErrorKind::JsonRpc);
    assert_eq!(
        manager.sessions_opened(),
        4,
        "a JSON-RPC error retires the session: each retry gets a fresh one, as the contract asks"
    );
}

#[tokio::test(start_paused = true)]
async fn per_attempt_timeout_then_exhaustion() {
    let mock = Mock::new(Step::Hang);
    let manager = mock.manager();
    let start = Instant::now();
    let err = manager
        .call(&config("timeout = 0.5\nmax_retries = 2"), "echo", hello())
        .await
        .unwrap_err();
    assert_eq!(secs(&mock.times()), [0.0, 1.5, 4.0]);
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(4500),
        "0.5 + 1 + 0.5 + 2 + 0.5"
    );
    assert_eq!(
        err.to_string(),
        "Cattackle 'mock' timed out after 0.5s (retries: 2)"
    );
    assert_eq!(
        manager.sessions_opened(),
        3,
        "a timed-out session is replaced"
    );
}

#[tokio::test(start_paused = true)]
async fn timeout_on_the_first_attempt_success_on_the_retry() {
    let mock =
        Mock::new(ok("hello")).then(Step::Delay(Duration::from_secs(2), Box::new(ok("late"))));
    let manager = mock.manager();
    let got = manager
        .call(&config("timeout = 0.5\nmax_retries = 2"), "echo", hello())
        .await
        .unwrap();
    assert_eq!(got.data, "hello");
    assert_eq!(secs(&mock.times()), [0.0, 1.5]);
}

#[tokio::test(start_paused = true)]
async fn capped_backoff() {
    let mock = Mock::new(Step::Error(-32000, "busy"));
    let manager = mock.manager();
    let cfg = config("max_retries = 4\nbackoff = { base = 1, factor = 10, max = 3 }");
    manager.call(&cfg, "echo", hello()).await.unwrap_err();
    assert_eq!(secs(&mock.times()), [0.0, 1.0, 4.0, 7.0, 10.0]);
}

#[tokio::test(start_paused = true)]
async fn jittered_backoff_with_a_seed_is_exact_and_reproducible() {
    let cfg = config("max_retries = 3\nbackoff = { jitter = \"full\", seed = 42 }");
    let expected = {
        let backoff = BackoffConfig {
            jitter: Jitter::Full,
            seed: Some(42),
            ..BackoffConfig::default()
        };
        let mut at = vec![0.0];
        for d in Backoff::new(&backoff).take(3) {
            at.push(at.last().unwrap() + d.as_secs_f64());
        }
        secs(&at)
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let mock = Mock::new(Step::Error(-32000, "busy"));
        mock.manager()
            .call(&cfg, "echo", hello())
            .await
            .unwrap_err();
        let got = mock.times();
        // The tokio timer ticks in whole milliseconds: each sleep may round up by < 1 ms.
        for (g, w) in got.iter().zip(&expected) {
            assert!((g - w).abs() <= 0.004, "got {got:?}, want {expected:?}");
        }
        assert_eq!(got.len(), expected.len());
        runs.push(got);
    }
    assert_eq!(
        runs[0], runs[1],
        "same seed, same schedule to the nanosecond"
    );
    assert!(
        expected[3] < 7.0,
        "full jitter shortens the schedule: {expected:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn validation_and_response_errors_are_not_retried() {
    for (reply, kind) in [
        (text("1 validation error for Args"), ErrorKind::Validation),
        (text("not json"), ErrorKind::InvalidJson),
        (text("[1]"), ErrorKind::InvalidResponse),
        (text(r#"{"data": 1}"#), ErrorKind::InvalidResponse),
    ] {
        let mock = Mock::new(reply);
        let manager = mock.manager();
        let err = manager
            .call(&config(""), "echo", hello())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind);
        assert_eq!(mock.calls().len(), 1, "{kind:?} is not retried");
        manager
            .call(&config(""), "echo", hello())
            .await
            .unwrap_err();
        assert_eq!(manager.sessions_opened(), 1, "{kind:?} keeps the session");
    }
}

#[tokio::test(start_paused = true)]
async fn transport_closed_mid_call_replaces_the_session_and_retries() {
    let mock = Mock::new(ok("again")).then(Step::Drop);
    let manager = mock.manager();
    let got = manager.call(&config(""), "echo", hello()).await.unwrap();
    assert_eq!(got.data, "again");
    assert_eq!(secs(&mock.times()), [0.0, 1.0]);
    assert_eq!(manager.sessions_opened(), 2);
}

#[tokio::test(start_paused = true)]
async fn connect_timeout_bounds_a_handshake_that_never_comes() {
    // The server end of the pipe is held open but never answers `initialize`.
    let held = std::sync::Mutex::new(Vec::new());
    let manager = McpClientManager::with_connector(MemoryConnector::new(move |_| {
        let (client, server) = tokio::io::duplex(1024);
        held.lock().unwrap().push(server);
        Ok(Connection::duplex(client))
    }));
    let start = Instant::now();
    let cfg = config("connect_timeout = 2\nmax_retries = 1");
    let err = manager.call(&cfg, "echo", hello()).await.unwrap_err();
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(5),
        "2 s + 1 s backoff + 2 s"
    );
    let CattackleError::Exhausted { last, reached, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        matches!(
            **last,
            CattackleError::TimedOut {
                phase: Phase::Handshake,
                ..
            }
        ),
        "{last:?}"
    );
    assert!(!reached, "nothing reached the cattackle");
    assert_eq!(
        err.to_string(),
        "Cattackle 'mock' timed out after 2.0s (retries: 1): no MCP handshake within connect_timeout"
    );
}

#[tokio::test(start_paused = true)]
async fn start_failures_are_typed_not_sent_and_retried() {
    let manager = McpClientManager::with_connector(MemoryConnector::new(|_| {
        Err(ConnectError::Other("connection refused".to_owned()))
    }));
    let start = Instant::now();
    let err = manager
        .call(&config(""), "echo", hello())
        .await
        .unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(7));
    assert!(!err.may_have_reached());
    assert_eq!(
        err.to_string(),
        "Failed to execute cattackle 'mock': cattackle 'mock' could not be started: connection refused"
    );
}

#[tokio::test(start_paused = true)]
async fn payload_over_max_payload_size_fails_before_sending() {
    let mock = Mock::new(ok("x"));
    let manager = mock.manager();
    let cfg = {
        let mut c = config("");
        c.settings.max_payload_size = Some(64);
        c
    };
    let err = manager
        .call(&cfg, "echo", Payload::text("x".repeat(100)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PayloadTooLarge);
    assert!(!err.is_retryable() && !err.may_have_reached());
    assert_eq!(
        err.to_string(),
        "payload for cattackle 'mock' is 144 bytes, over its max_payload_size of 64 bytes"
    );
    assert_eq!(manager.sessions_opened(), 0, "nothing was started");
    manager
        .call(&cfg, "echo", Payload::text("small"))
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn undeclared_command_fails_fast_and_typed() {
    let mock = Mock::new(ok("x"));
    let err = mock
        .manager()
        .call(&config(""), "nope", hello())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownCommand);
    assert_eq!(
        err.to_string(),
        "cattackle 'mock' has no command `nope` (known: echo, other)"
    );
    assert!(mock.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn every_event_of_a_call_carries_the_number_its_caller_reserved() {
    use cattackle_harness::manager::{CallOptions, ManagerEvent};
    use std::sync::{Arc, Mutex};
    let mock = Mock::new(ok("fine")).then(Step::Error(-32603, "boom"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let manager = mock
        .manager()
        .with_observer(Arc::new(move |event: &ManagerEvent| {
            let entry = match event {
                ManagerEvent::AttemptStarted { call, attempt, .. } => (*call, *attempt, "started"),
                ManagerEvent::AttemptFailed { call, attempt, .. } => (*call, *attempt, "failed"),
                _ => return,
            };
            sink.lock().unwrap().push(entry);
        }));
    let cfg = config("");
    let (a, b) = (manager.reserve_call(), manager.reserve_call());
    assert_eq!(
        (a, b),
        (1, 2),
        "numbers count from 1 in the order they are taken"
    );
    let call = |n| manager.call_with(&cfg, "echo", hello(), CallOptions::default().with_call(n));
    let (first, second) = tokio::join!(call(a), call(b));
    assert_eq!(first.unwrap().data, "fine");
    assert_eq!(second.unwrap().data, "fine");
    manager.call(&cfg, "echo", hello()).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    let of = |n: u64| -> Vec<(u32, &str)> {
        seen.iter()
            .filter(|(call, ..)| *call == n)
            .map(|(_, attempt, what)| (*attempt, *what))
            .collect()
    };
    // The first call to arrive failed once; each call's events are its own, whichever it was.
    let (failed, clean) = if of(a).len() == 3 { (a, b) } else { (b, a) };
    assert_eq!(of(failed), [(1, "started"), (1, "failed"), (2, "started")]);
    assert_eq!(of(clean), [(1, "started")]);
    assert_eq!(
        of(3),
        [(1, "started")],
        "a call without a number takes the next"
    );
    assert_eq!(seen.len(), 5, "{seen:?}");
}
