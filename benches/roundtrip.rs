//! Sequential `tools/call` round trips to `echo-cattackle` over stdio, WebSocket and Streamable
//! HTTP, through `McpClientManager::call` and through a bare rmcp client on the same server,
//! plus session start over stdio.
//!
//! Run: `cargo bench --bench roundtrip` (`BENCH_CALLS` sets the calls per round, default 5000).
//! Both paths run on one current-thread runtime (the faster choice on 2 cores), interleaved in
//! rounds so that machine noise hits them alike; the best and the median round are reported.
#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cattackle_harness::config::CattackleConfig;
use cattackle_harness::manager::{McpClientManager, Payload};
use cattackle_harness::transport::websocket::{WebSocketState, json_rpc};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation};
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::json;

const ROUNDS: usize = 5;

type BareClient = rmcp::service::RunningService<rmcp::RoleClient, ClientConfig>;

#[path = "support/mod.rs"]
mod support;

use support::{Wire, config, network_server};

// The tests' build of `echo-cattackle` (release here): without cargo's package variables, so the
// nested build does not rebuild half the graph on every run.
#[path = "../tests/support/processes.rs"]
#[expect(
    dead_code,
    unreachable_pub,
    reason = "shared with the tests; the bench uses echo_binary only"
)]
mod processes;

use processes::echo_binary;

fn info() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("bench", "0"),
    )
}

async fn bare_client(
    wire: Wire,
    binary: &Path,
    url: &str,
) -> (BareClient, Option<tokio::process::Child>) {
    match wire {
        Wire::Stdio => {
            let mut child = tokio::process::Command::new(binary)
                .args(["--transport", "stdio"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .expect("spawn");
            let io = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
            (info().serve(io).await.expect("handshake"), Some(child))
        }
        Wire::WebSocket => {
            let (socket, _) = tokio_tungstenite::connect_async(url)
                .await
                .expect("ws connect");
            let (sink, stream) = json_rpc::<rmcp::RoleClient, _>(socket, WebSocketState::default());
            (info().serve((sink, stream)).await.expect("handshake"), None)
        }
        Wire::Http => {
            let transport = StreamableHttpClientTransport::from_uri(url);
            (info().serve(transport).await.expect("handshake"), None)
        }
    }
}

async fn manager_rate(manager: &McpClientManager, cfg: &CattackleConfig, calls: usize) -> f64 {
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

async fn bare_rate(client: &BareClient, calls: usize) -> f64 {
    let args = json!({"text": "hello", "extra": {"username": "undefined"}});
    let args = args.as_object().unwrap().clone();
    let start = Instant::now();
    for _ in 0..calls {
        let params = CallToolRequestParams::new("echo").with_arguments(args.clone());
        let r = client.peer().call_tool(params).await.expect("call");
        assert!(!r.content.is_empty());
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

async fn compare(wire: Wire, binary: &Path, calls: usize) {
    let (_server, url) = match wire {
        Wire::Stdio => (None, String::new()),
        _ => {
            let (child, url) = network_server(binary, wire).await;
            (Some(child), url)
        }
    };
    let cfg = config(wire, binary, &url);
    let manager = McpClientManager::new();
    let (bare, _child) = bare_client(wire, binary, &url).await;
    let warmup = calls / 10 + 1;
    manager_rate(&manager, &cfg, warmup).await;
    bare_rate(&bare, warmup).await;
    let (mut via_manager, mut via_bare) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        via_manager.push(manager_rate(&manager, &cfg, calls).await);
        via_bare.push(bare_rate(&bare, calls).await);
    }
    println!(
        "{:<10} manager {:>7.0}/s  bare rmcp {:>7.0}/s  ratio {:>5.1}% best, {:>5.1}% median  (target >= 90%)",
        format!("{wire:?}"),
        best(&via_manager),
        best(&via_bare),
        100.0 * best(&via_manager) / best(&via_bare),
        100.0 * mid(&via_manager) / mid(&via_bare)
    );
    manager.close_all_sessions(Duration::from_secs(2)).await;
}

async fn session_start(binary: &Path) {
    let cfg = config(Wire::Stdio, binary, "");
    let (mut via_manager, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..30 {
        let manager = McpClientManager::new();
        let start = Instant::now();
        manager
            .call(&cfg, "echo", Payload::text("x"))
            .await
            .expect("first call");
        via_manager.push(start.elapsed());
        manager.close_all_sessions(Duration::from_secs(2)).await;
        let start = Instant::now();
        let (client, _child) = bare_client(Wire::Stdio, binary, "").await;
        bare.push(start.elapsed());
        drop(client);
    }
    via_manager.sort();
    bare.sort();
    println!(
        "stdio session start, median of 30: {:?} via the manager (spawn + handshake + first call), {:?} bare rmcp (spawn + handshake)",
        via_manager[15], bare[15]
    );
}

async fn run() {
    // The bare HTTP client builds reqwest itself: it needs the same rustls provider the manager uses.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000);
    let binary = echo_binary();
    println!("sequential tools/call echo, {calls} calls x {ROUNDS} rounds per path:");
    for wire in [Wire::Stdio, Wire::WebSocket, Wire::Http] {
        compare(wire, &binary, calls).await;
    }
    session_start(&binary).await;
}

fn main() {
    // `cargo test --all-targets` runs bench targets without `--bench`: keep that instant.
    if !std::env::args().any(|a| a == "--bench") {
        println!("roundtrip: run with `cargo bench --bench roundtrip`");
        return;
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run());
}
