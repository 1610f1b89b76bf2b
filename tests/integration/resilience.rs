//! Manager v2 on a paused clock: what a circuit breaker does to its neighbours.

use std::time::Duration;

use cattackle_harness::manager::{BreakerState, ErrorKind, McpClientManager, Payload};
use cattackle_harness::transport::MemoryConnector;
use tokio::time::Instant;

use crate::support::config;
use crate::support::rmcp_peer::{Mock, Step, ok};

#[tokio::test(start_paused = true)]
async fn an_open_breaker_stops_only_its_own_cattackle() {
    let broken = Mock::new(Step::Error(-32603, "down"));
    let healthy = Mock::new(Step::Delay(
        Duration::from_millis(200),
        Box::new(ok("fine")),
    ));
    let (b, h) = (broken.clone(), healthy.clone());
    let manager = McpClientManager::with_connector(MemoryConnector::new(move |config| {
        Ok(if config.name == "broken" {
            b.connect()
        } else {
            h.connect()
        })
    }));
    let breaker = "max_retries = 0\n[cattackle.mcp.breaker]\nconsecutive_failures = 1\nbase = 30";
    let mut bad = config(breaker);
    bad.name = "broken".into();
    let good = config(breaker);
    assert!(
        manager
            .call(&bad, "echo", Payload::text("x"))
            .await
            .is_err()
    );
    assert_eq!(manager.breaker_state("broken"), Some(BreakerState::Open));
    // While it is open: the broken one is rejected at once, the healthy one keeps its latency,
    // even with calls to both in flight together.
    for _ in 0..3 {
        let start = Instant::now();
        let (rejected, answered) = tokio::join!(
            manager.call(&bad, "echo", Payload::text("x")),
            manager.call(&good, "echo", Payload::text("y")),
        );
        assert_eq!(rejected.unwrap_err().kind(), ErrorKind::CircuitOpen);
        assert_eq!(answered.unwrap().data, "fine");
        assert_eq!(start.elapsed(), Duration::from_millis(200));
    }
    assert_eq!(manager.breaker_state("mock"), Some(BreakerState::Closed));
    assert_eq!(broken.calls().len(), 1, "nothing was sent while open");
    assert_eq!(healthy.calls().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn without_a_breaker_table_the_original_behaviour_stays() {
    let mock = Mock::new(Step::Error(-32603, "down"));
    let manager = mock.manager();
    let cfg = config("max_retries = 0");
    for _ in 0..10 {
        let err = manager
            .call(&cfg, "echo", Payload::text("x"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Exhausted);
    }
    assert_eq!(manager.breaker_state("mock"), None);
    assert_eq!(mock.calls().len(), 10, "every call was sent");
}

#[tokio::test(start_paused = true)]
async fn a_reload_without_the_breaker_drops_its_state() {
    let mock = Mock::new(ok("fine")).then(Step::Error(-32603, "down"));
    let manager = mock.manager();
    let with = config("max_retries = 0\n[cattackle.mcp.breaker]\nconsecutive_failures = 1");
    assert!(
        manager
            .call(&with, "echo", Payload::text("x"))
            .await
            .is_err()
    );
    assert_eq!(manager.breaker_state("mock"), Some(BreakerState::Open));
    let without = config("max_retries = 0");
    assert_eq!(
        manager
            .call(&without, "echo", Payload::text("y"))
            .await
            .unwrap()
            .data,
        "fine"
    );
    assert_eq!(manager.breaker_state("mock"), None, "no breaker, no state");
    manager
        .call(&with, "echo", Payload::text("z"))
        .await
        .unwrap();
    assert_eq!(
        manager.breaker_state("mock"),
        Some(BreakerState::Closed),
        "the breaker comes back fresh, not open"
    );
}
