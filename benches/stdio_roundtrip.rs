//! Sequential `tools/call` round trips over stdio to `echo-cattackle`, through
//! `McpClientManager::call` and through a bare rmcp client on the same server, plus session start.
//!
//! Run: `cargo bench --bench stdio_roundtrip` (set `BENCH_CALLS` to change the call count).
//! Both paths run on a current-thread runtime (the faster choice on 2 cores), interleaved in
//! rounds so that machine noise hits them alike; the best round of each is reported.
#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use cattackle_harness::config::{CattackleConfig, load_str};
use cattackle_harness::manager::{McpClientManager, Payload};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation};
use serde_json::json;

const ROUNDS: usize = 5;

fn echo_binary() -> PathBuf {
    escargot::CargoBuild::new()
        .package("echo-cattackle")
        .bin("echo-cattackle")
        .release()
        .run()
        .expect("cannot build echo-cattackle")
        .path()
        .to_owned()
}

fn config(binary: &Path) -> CattackleConfig {
    let text = format!(
        r#"
[cattackle]
name = "echo"
version = "1"
description = "bench"
[cattackle.commands]
echo = {{ description = "e" }}
[cattackle.mcp.transport]
type = "stdio"
command = {:?}
args = ["--transport", "stdio"]
"#,
        binary.display().to_string()
    );
    load_str("bench.toml", &text).expect("bench config").config
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

type BareClient = rmcp::service::RunningService<rmcp::RoleClient, ClientConfig>;

async fn bare_client(binary: &Path) -> (BareClient, tokio::process::Child) {
    let mut child = tokio::process::Command::new(binary)
        .args(["--transport", "stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let io = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let info = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("bench", "0"),
    );
    (info.serve(io).await.expect("handshake"), child)
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

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn run() {
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000);
    let binary = echo_binary();
    let cfg = config(&binary);

    let manager = McpClientManager::new();
    let (bare, _child) = bare_client(&binary).await;
    manager_rate(&manager, &cfg, 500).await;
    bare_rate(&bare, 500).await;
    let (mut via_manager, mut via_bare) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        via_manager.push(manager_rate(&manager, &cfg, calls).await);
        via_bare.push(bare_rate(&bare, calls).await);
    }
    let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let (m, b) = (best(&via_manager), best(&via_bare));
    println!("stdio sequential tools/call, {calls} calls x {ROUNDS} rounds, best round:");
    println!(
        "  (a) McpClientManager::call  {m:>9.0} calls/s   rounds: {:?}",
        rounded(&via_manager)
    );
    println!(
        "  (b) bare rmcp client        {b:>9.0} calls/s   rounds: {:?}",
        rounded(&via_bare)
    );
    let mid = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "  (a)/(b) = {:.1}% best, {:.1}% median  (target >= 90%)",
        100.0 * m / b,
        100.0 * mid(&via_manager) / mid(&via_bare)
    );
    manager.close_all_sessions(Duration::from_secs(2)).await;

    let mut starts = Vec::new();
    let mut bare_starts = Vec::new();
    for _ in 0..30 {
        let manager = McpClientManager::new();
        let start = Instant::now();
        manager
            .call(&cfg, "echo", Payload::text("x"))
            .await
            .expect("first call");
        starts.push(start.elapsed());
        manager.close_all_sessions(Duration::from_secs(2)).await;
        let start = Instant::now();
        let (client, _child) = bare_client(&binary).await;
        bare_starts.push(start.elapsed());
        drop(client);
    }
    println!("session start, median of 30:");
    println!(
        "  spawn + handshake + first call via the manager  {:?}",
        median(starts)
    );
    println!(
        "  spawn + handshake, bare rmcp                    {:?}",
        median(bare_starts)
    );
}

fn rounded(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| *x as u64).collect()
}

fn main() {
    // `cargo test --benches` runs bench targets with `--bench` absent: keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("stdio_roundtrip: run with `cargo bench --bench stdio_roundtrip`");
        return;
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run());
}
