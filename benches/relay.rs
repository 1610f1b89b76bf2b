//! What the fault relay costs: sequential `tools/call` round trips to `echo-cattackle` through
//! `McpClientManager`, directly and through a relay with no faults (every message parsed and
//! journaled, as in a `server: real` trial), over stdio, WebSocket and Streamable HTTP.
//!
//! Run: `cargo bench --bench relay` (`BENCH_CALLS` sets the calls per round, default 3000). The
//! two paths are interleaved in rounds on one current-thread runtime; best and median rounds
//! are reported.
#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use cattackle_harness::config::CattackleConfig;
use cattackle_harness::journal::{Journal, Redactor};
use cattackle_harness::manager::{McpClientManager, Payload};
use cattackle_harness::relay::{HttpRelay, RelayConnector, Upstream, WsRelay};
use cattackle_harness::transport::DefaultConnector;

#[path = "support/mod.rs"]
mod support;

#[path = "../tests/support/processes.rs"]
#[expect(
    dead_code,
    unreachable_pub,
    reason = "shared with the tests; the bench uses echo_binary only"
)]
mod processes;

use support::{Wire, config, network_server};

const ROUNDS: usize = 5;

async fn rate(manager: &McpClientManager, cfg: &CattackleConfig, calls: usize) -> f64 {
    let start = Instant::now();
    for _ in 0..calls {
        let r = manager
            .call(cfg, "echo", Payload::text("hello"))
            .await
            .expect("call");
        assert_eq!(r.data, "hello");
    }
    calls as f64 / start.elapsed().as_secs_f64()
}

fn best(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

fn mid(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn compare(wire: Wire, calls: usize) {
    let binary = processes::echo_binary();
    let (_server, url) = match wire {
        Wire::Stdio => (None, String::new()),
        _ => {
            let (child, url) = network_server(&binary, wire).await;
            (Some(child), url)
        }
    };
    let cfg = config(wire, &binary, &url);
    let journal = Arc::new(Journal::new(false, Redactor::default()));
    let direct = McpClientManager::new();
    let (relayed, relayed_cfg, relay) = match wire {
        Wire::Stdio => {
            let connector = RelayConnector::new(
                DefaultConnector::default(),
                Vec::new(),
                0,
                cfg.mcp.max_message_size,
                journal,
            );
            (
                McpClientManager::with_connector(connector),
                cfg.clone(),
                None,
            )
        }
        _ => {
            let upstream = Upstream {
                url: url.clone(),
                headers: Default::default(),
                max_message_size: cfg.mcp.max_message_size,
                pid: Arc::default(),
            };
            let (scheme, relay) = if wire == Wire::Http {
                let relay = HttpRelay::start(upstream, Vec::new(), 0, journal).await;
                ("http", Relay::Http(relay.expect("relay")))
            } else {
                let relay = WsRelay::start(upstream, Vec::new(), 0, journal).await;
                ("ws", Relay::Ws(relay.expect("relay")))
            };
            let via = format!("{scheme}://127.0.0.1:{}/mcp", relay.port());
            let relayed_cfg = config(wire, &binary, &via);
            (McpClientManager::new(), relayed_cfg, Some(relay))
        }
    };
    let warmup = calls / 10 + 1;
    rate(&direct, &cfg, warmup).await;
    rate(&relayed, &relayed_cfg, warmup).await;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        a.push(rate(&direct, &cfg, calls).await);
        b.push(rate(&relayed, &relayed_cfg, calls).await);
    }
    println!(
        "{:<10} direct {:>7.0}/s  through the relay {:>7.0}/s  ratio {:>5.1}% best, {:>5.1}% median",
        format!("{wire:?}"),
        best(&a),
        best(&b),
        100.0 * best(&b) / best(&a),
        100.0 * mid(&b) / mid(&a)
    );
    direct.close_all_sessions(Duration::from_secs(2)).await;
    relayed.close_all_sessions(Duration::from_secs(2)).await;
    match relay {
        Some(Relay::Http(relay)) => relay.stop().await,
        Some(Relay::Ws(relay)) => relay.stop().await,
        None => {}
    }
}

/// The network relay of a wire.
enum Relay {
    Ws(WsRelay),
    Http(HttpRelay),
}

impl Relay {
    fn port(&self) -> u16 {
        match self {
            Self::Ws(relay) => relay.port(),
            Self::Http(relay) => relay.port(),
        }
    }
}

fn main() {
    // `cargo test --all-targets` runs bench targets without `--bench`: keep that instant.
    if !std::env::args().any(|a| a == "--bench") {
        println!("relay: run with `cargo bench --bench relay`");
        return;
    }
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            println!("sequential tools/call echo, {calls} calls x {ROUNDS} rounds per path:");
            compare(Wire::Stdio, calls).await;
            compare(Wire::WebSocket, calls).await;
            compare(Wire::Http, calls).await;
        });
}
