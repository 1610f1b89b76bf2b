//! MCP spec eras: the `protocol` key, `auto` with its bounded fallback, and `ping` health checks
//! mapped to what the negotiated era has.

use std::time::Duration;

use cattackle_harness::manager::{McpClientManager, Payload};
use tokio::time::Instant;

use crate::support::config;
use crate::support::legacy::{connections, legacy_connector};
use crate::support::rmcp_peer::{Mock, ok};

async fn negotiated(protocol: &str) -> Option<String> {
    let mock = Mock::new(ok("x"));
    let manager = mock.manager();
    let cfg = config(&format!("protocol = \"{protocol}\""));
    manager
        .call(&cfg, "echo", Payload::text("t"))
        .await
        .unwrap();
    manager.session_protocol("mock").await
}

#[tokio::test(start_paused = true)]
async fn each_protocol_setting_negotiates_its_era() {
    assert_eq!(
        negotiated("2025-11-25").await.as_deref(),
        Some("2025-11-25")
    );
    assert_eq!(
        negotiated("2025-06-18").await.as_deref(),
        Some("2025-06-18")
    );
    assert_eq!(
        negotiated("2026-07-28").await.as_deref(),
        Some("2026-07-28")
    );
    assert_eq!(
        negotiated("auto").await.as_deref(),
        Some("2026-07-28"),
        "a modern server answers discover"
    );
    let default = {
        let mock = Mock::new(ok("x"));
        let manager = mock.manager();
        manager
            .call(&config(""), "echo", Payload::text("t"))
            .await
            .unwrap();
        manager.session_protocol("mock").await
    };
    assert_eq!(
        default.as_deref(),
        Some("2025-11-25"),
        "the documented default"
    );
}

#[tokio::test(start_paused = true)]
async fn auto_falls_back_to_initialize_within_connect_timeout_when_discover_is_never_answered() {
    let (legacy, journal) = legacy_connector();
    let manager = McpClientManager::with_connector(legacy);
    let cfg = config("protocol = \"auto\"\nconnect_timeout = 4\nmax_retries = 0");
    let start = Instant::now();
    let got = manager
        .call(&cfg, "echo", Payload::text("t"))
        .await
        .unwrap();
    assert_eq!(got.data, "legacy");
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(2),
        "half of connect_timeout, not rmcp's 10 s"
    );
    assert_eq!(
        connections(&journal),
        2,
        "the probe's connection, then a fresh one"
    );
    assert_eq!(
        manager.session_protocol("mock").await.as_deref(),
        Some("2025-11-25")
    );
}

#[tokio::test(start_paused = true)]
async fn a_legacy_server_works_with_the_default_protocol_at_once() {
    let (legacy, journal) = legacy_connector();
    let manager = McpClientManager::with_connector(legacy);
    let start = Instant::now();
    manager
        .call(&config(""), "echo", Payload::text("t"))
        .await
        .unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(connections(&journal), 1);
}

#[tokio::test(start_paused = true)]
async fn ping_health_checks_work_in_both_eras() {
    for protocol in ["2025-11-25", "2026-07-28"] {
        let mock = Mock::new(ok("x"));
        let manager = mock.manager();
        let cfg = config(&format!(
            "protocol = \"{protocol}\"\nhealth_check = \"ping\""
        ));
        for _ in 0..3 {
            manager
                .call(&cfg, "echo", Payload::text("t"))
                .await
                .unwrap();
        }
        assert_eq!(
            manager.sessions_opened(),
            1,
            "{protocol}: the probe passed, the session was kept"
        );
    }
    // And against the legacy server, whose only probe is `ping`.
    let (legacy, journal) = legacy_connector();
    let manager = McpClientManager::with_connector(legacy);
    let cfg = config("health_check = \"ping\"");
    for _ in 0..3 {
        manager
            .call(&cfg, "echo", Payload::text("t"))
            .await
            .unwrap();
    }
    assert_eq!(connections(&journal), 1);
}
