//! Session semantics on an in-memory transport: one session per cattackle, shared by concurrent
//! calls, health checks, reload with a changed transport, close.

use std::time::Duration;

use cattackle_harness::manager::Payload;
use serde_json::json;
use tokio::time::Instant;

use crate::support::rmcp_peer::{Mock, Step, ok};
use crate::support::{config, config_with};

#[tokio::test(start_paused = true)]
async fn concurrent_first_calls_open_one_session_and_are_not_serialized() {
    let mock = Mock::new(Step::Delay(Duration::from_secs(1), Box::new(ok("done"))));
    let manager = mock.manager();
    let cfg = config("");
    let start = Instant::now();
    let calls = (0..32).map(|i| manager.call(&cfg, "echo", Payload::text(format!("{i}"))));
    let results = futures::future::join_all(calls).await;
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.data == "done"))
    );
    assert_eq!(manager.sessions_opened(), 1);
    assert_eq!(mock.calls().len(), 32);
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(1),
        "32 calls of 1 s share the session in parallel"
    );
}

#[tokio::test(start_paused = true)]
async fn sequential_calls_reuse_the_session() {
    let mock = Mock::new(ok("x"));
    let manager = mock.manager();
    for _ in 0..5 {
        manager
            .call(&config(""), "echo", Payload::text("t"))
            .await
            .unwrap();
    }
    assert_eq!(manager.sessions_opened(), 1);
}

#[tokio::test(start_paused = true)]
async fn liveness_health_check_costs_no_round_trip_but_tools_list_does() {
    let mock = Mock::new(ok("x"));
    let manager = mock.manager();
    for _ in 0..3 {
        manager
            .call(&config(""), "echo", Payload::text("t"))
            .await
            .unwrap();
    }
    assert_eq!(
        mock.tools_lists(),
        0,
        "the default check is liveness: no extra round trip"
    );

    let mock = Mock::new(ok("x"));
    let manager = mock.manager();
    let cfg = config("health_check = \"tools/list\"");
    for _ in 0..3 {
        manager
            .call(&cfg, "echo", Payload::text("t"))
            .await
            .unwrap();
    }
    assert_eq!(
        mock.tools_lists(),
        2,
        "the original's check: one tools/list before each reuse"
    );
    assert_eq!(manager.sessions_opened(), 1);
}

#[tokio::test(start_paused = true)]
async fn ping_health_check_keeps_a_healthy_session() {
    let mock = Mock::new(ok("x"));
    let manager = mock.manager();
    let cfg = config("health_check = \"ping\"");
    for _ in 0..3 {
        manager
            .call(&cfg, "echo", Payload::text("t"))
            .await
            .unwrap();
    }
    assert_eq!(manager.sessions_opened(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_dead_session_is_replaced_before_the_call_without_costing_an_attempt() {
    // The connection dies right after the first answer; the second call must notice through
    // liveness and reopen, with no failed attempt and no backoff.
    let mock = Mock::new(ok("fresh")).then(Step::ThenCut(Box::new(ok("first"))));
    let manager = mock.manager();
    let cfg = config("max_retries = 0");
    assert_eq!(
        manager
            .call(&cfg, "echo", Payload::text("t"))
            .await
            .unwrap()
            .data,
        "first"
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
    let start = Instant::now();
    assert_eq!(
        manager
            .call(&cfg, "echo", Payload::text("t"))
            .await
            .unwrap()
            .data,
        "fresh"
    );
    assert_eq!(
        start.elapsed(),
        Duration::ZERO,
        "no attempt failed, no backoff"
    );
    assert_eq!(mock.calls().len(), 2, "the dead session was never called");
    assert_eq!(manager.sessions_opened(), 2);
}

#[tokio::test(start_paused = true)]
async fn reloaded_config_with_a_new_transport_gets_a_new_session() {
    let mock = Mock::new(ok("x"));
    let manager = mock.manager();
    let before = config_with("", "type = \"stdio\"\ncommand = \"v1\"");
    let same = config_with("timeout = 5", "type = \"stdio\"\ncommand = \"v1\"");
    let after = config_with("", "type = \"stdio\"\ncommand = \"v2\"");
    manager
        .call(&before, "echo", Payload::text("t"))
        .await
        .unwrap();
    manager
        .call(&same, "echo", Payload::text("t"))
        .await
        .unwrap();
    assert_eq!(
        manager.sessions_opened(),
        1,
        "a non-transport change keeps the session"
    );
    manager
        .call(&after, "echo", Payload::text("t"))
        .await
        .unwrap();
    assert_eq!(
        manager.sessions_opened(),
        2,
        "a changed transport opens a new session"
    );
}

#[tokio::test(start_paused = true)]
async fn close_session_then_call_opens_a_new_one() {
    let mock = Mock::new(ok("x"));
    let manager = mock.manager();
    manager
        .call(&config(""), "echo", Payload::text("t"))
        .await
        .unwrap();
    manager.close_session("mock", Duration::from_secs(2)).await;
    manager
        .close_session("never-opened", Duration::from_secs(2))
        .await;
    manager
        .call(&config(""), "echo", Payload::text("t"))
        .await
        .unwrap();
    assert_eq!(manager.sessions_opened(), 2);
    manager.close_all_sessions(Duration::from_secs(2)).await;
}

#[tokio::test(start_paused = true)]
async fn username_is_injected_on_every_attempt() {
    let mock = Mock::new(ok("x")).then(Step::Error(-32000, "busy"));
    let manager = mock.manager();
    let payload = Payload::text("hi")
        .with_accumulated_params(["a", "b"])
        .with_username("ann");
    manager.call(&config(""), "echo", payload).await.unwrap();
    manager
        .call(&config(""), "other", Payload::text("x"))
        .await
        .unwrap();
    let calls = mock.calls();
    let want =
        json!({"text": "hi", "accumulated_params": ["a", "b"], "extra": {"username": "ann"}});
    assert_eq!(calls[0].arguments, want);
    assert_eq!(
        calls[1].arguments, want,
        "the retry carries the same arguments"
    );
    assert_eq!(calls[2].tool, "other");
    assert_eq!(calls[2].arguments["extra"]["username"], "undefined");
}
