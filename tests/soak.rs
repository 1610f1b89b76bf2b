//! The soak: calls at a fixed rate to `echo-cattackle` over stdio, WebSocket and HTTP at once,
//! each through the fault relay with 1 % random faults (a JSON-RPC error in place of the
//! answer, or the answer cut after 20 bytes), for a bounded time. It reports calls sent,
//! answered, failed by kind and lost (a call that never ended: must be 0), and the process's RSS
//! sampled each second (must stay flat).
//!
//! `cargo test --test soak` soaks for 10 s; CI sets `SOAK_SECS=120`; by hand
//! `SOAK_SECS=1800 SOAK_RATE=500 cargo test --release --test soak`.

#![expect(clippy::print_stdout, reason = "the soak's figures are what it prints")]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cattackle_harness::config::CattackleConfig;
use cattackle_harness::journal::Journal;
use cattackle_harness::manager::{McpClientManager, Payload};
use cattackle_harness::relay::{HttpRelay, RelayConnector, Upstream, WsRelay};
use cattackle_harness::scenario::model::Fault;
use cattackle_harness::transport::DefaultConnector;

#[path = "../benches/support/mod.rs"]
mod support;

#[path = "support/processes.rs"]
#[expect(
    dead_code,
    unreachable_pub,
    reason = "shared with the integration tests"
)]
mod processes;

use support::{Wire, config, network_server};

const FAULTS: &str = "
name: soak faults
cattackle:
  inline:
    name: echo
    version: '1'
    description: soak
    commands: { echo: { description: e } }
    mcp: { transport: { type: stdio, command: echo-cattackle } }
faults:
  - match: { tool: echo, probability: 0.005 }
    jsonrpc_error: { code: -32603, message: injected by the soak }
  - match: { tool: echo, probability: 0.005 }
    limit_data: 20
steps: []
";

fn faults() -> Vec<Fault> {
    let file = cattackle_harness::scenario::load_str(Path::new("soak.yaml"), "soak", FAULTS)
        .unwrap_or_else(|e| panic!("{}", e.render()));
    file.scenario.faults.clone()
}

fn env(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4
}

#[derive(Default, Debug)]
struct Tally {
    sent: u64,
    answered: u64,
    failed: BTreeMap<String, u64>,
    lost: u64,
    /// Most calls in flight at once.
    peak_in_flight: usize,
}

/// Calls at `rate` a second for `secs`, every call bounded (`connect_timeout` and `timeout`
/// 2 s, 2 retries: at most about 12 s).
async fn soak(manager: Arc<McpClientManager>, cfg: CattackleConfig, rate: u64, secs: u64) -> Tally {
    let mut tally = Tally::default();
    let mut calls = tokio::task::JoinSet::new();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    let count = |tally: &mut Tally, done: Result<Result<String, String>, _>| match done {
        Ok(Ok(_)) => tally.answered += 1,
        Ok(Err(kind)) => *tally.failed.entry(kind).or_default() += 1,
        Err(_) => tally.lost += 1,
    };
    while tokio::time::Instant::now() < end {
        tick.tick().await;
        // In flight at most 256: past that the sender waits (the rate drops; nothing is lost).
        while calls.len() >= 256 {
            if let Some(done) = calls.join_next().await {
                count(&mut tally, done);
            }
        }
        let (manager, cfg) = (manager.clone(), cfg.clone());
        let n = tally.sent;
        calls.spawn(async move {
            let text = format!("soak {n}");
            match manager.call(&cfg, "echo", Payload::text(&text)).await {
                Ok(r) if r.data == text => Ok(r.data),
                Ok(r) => Err(format!("wrong answer {:?}", r.data)),
                Err(e) => Err(e.kind().to_string()),
            }
        });
        tally.sent += 1;
        tally.peak_in_flight = tally.peak_in_flight.max(calls.len());
        while let Some(done) = calls.try_join_next() {
            count(&mut tally, done);
        }
    }
    // Every call is bounded (about 12 s at most): any still running after 30 s is lost.
    let drain = async {
        while let Some(done) = calls.join_next().await {
            count(&mut tally, done);
        }
    };
    if tokio::time::timeout(Duration::from_secs(30), drain)
        .await
        .is_err()
    {
        tally.lost += calls.len() as u64;
        calls.abort_all();
    }
    tally
}

fn run() -> Result<(), String> {
    let (secs, rate) = (env("SOAK_SECS", 10), env("SOAK_RATE", 300));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let binary = processes::echo_binary();
        let faults = faults();
        let journal = Arc::new(Journal::discarding());
        let tune = |mut cfg: CattackleConfig| {
            cfg.mcp.timeout = Duration::from_secs(2);
            cfg.mcp.connect_timeout = Duration::from_secs(2);
            cfg.mcp.max_retries = 2;
            cfg.mcp.backoff.base = Duration::from_millis(10);
            cfg
        };
        // stdio: the relay as the manager's connector.
        let stdio_cfg = tune(config(Wire::Stdio, &binary, ""));
        let connector = RelayConnector::new(
            DefaultConnector::default(),
            faults.clone(),
            1,
            stdio_cfg.mcp.max_message_size,
            journal.clone(),
        );
        let stdio = Arc::new(McpClientManager::with_connector(connector));
        // WebSocket and HTTP: real servers behind relays on 127.0.0.1.
        let (_ws_server, ws_url) = network_server(&binary, Wire::WebSocket).await;
        let (_http_server, http_url) = network_server(&binary, Wire::Http).await;
        let upstream = |url: &str| Upstream {
            url: url.to_owned(),
            headers: Default::default(),
            max_message_size: stdio_cfg.mcp.max_message_size,
            pid: Arc::default(),
        };
        let ws_relay = WsRelay::start(upstream(&ws_url), faults.clone(), 2, journal.clone())
            .await
            .map_err(|e| e.to_string())?;
        let http_relay = HttpRelay::start(upstream(&http_url), faults, 3, journal)
            .await
            .map_err(|e| e.to_string())?;
        let ws_cfg = tune(config(
            Wire::WebSocket,
            &binary,
            &format!("ws://127.0.0.1:{}/mcp", ws_relay.port()),
        ));
        let http_cfg = tune(config(
            Wire::Http,
            &binary,
            &format!("http://127.0.0.1:{}/mcp", http_relay.port()),
        ));
        // One manager for both, as the chat core has: each cattackle its own session.
        let (mut ws_cfg, mut http_cfg) = (ws_cfg, http_cfg);
        ws_cfg.name = "echo-websocket".to_owned();
        http_cfg.name = "echo-http".to_owned();
        let network = Arc::new(McpClientManager::new());
        let samples = Arc::new(std::sync::Mutex::new(Vec::new()));
        let into = samples.clone();
        let sampler = tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            loop {
                every.tick().await;
                into.lock().unwrap().push(rss_kib());
            }
        });
        let per = rate / 3;
        let (a, b, c) = tokio::join!(
            soak(stdio.clone(), stdio_cfg, per, secs),
            soak(network.clone(), ws_cfg, per, secs),
            soak(network.clone(), http_cfg, per, secs),
        );
        sampler.abort();
        let samples = samples.lock().unwrap().clone();
        stdio.close_all_sessions(Duration::from_secs(1)).await;
        network.close_all_sessions(Duration::from_secs(1)).await;
        ws_relay.stop().await;
        http_relay.stop().await;
        report(
            secs,
            rate,
            &[("stdio", a), ("websocket", b), ("http", c)],
            &samples,
        )
    })
}

fn report(secs: u64, rate: u64, tallies: &[(&str, Tally)], rss: &[u64]) -> Result<(), String> {
    println!("soak: {secs} s at {rate} calls/s over three transports, 1 % faults");
    let mut problems = Vec::new();
    for (wire, t) in tallies {
        let failed: u64 = t.failed.values().sum();
        println!(
            "  {wire:<9} sent {:>7} ({:.0}/s)  answered {:>7}  failed {:>4} {:?}  lost {}  peak in flight {}",
            t.sent,
            t.sent as f64 / secs as f64,
            t.answered,
            failed,
            t.failed,
            t.lost,
            t.peak_in_flight
        );
        if t.lost > 0 {
            problems.push(format!("{wire}: {} calls lost", t.lost));
        }
        if t.sent != t.answered + failed + t.lost {
            problems.push(format!("{wire}: calls unaccounted for"));
        }
        // Three attempts each: a call fails only when all three meet a fault (1e-6).
        if failed * 100 > t.sent.max(100) {
            problems.push(format!("{wire}: {failed} of {} calls failed", t.sent));
        }
    }
    // Flat: after a 3 s warm-up, the last sample is within 8 MiB of the first (a relay that
    // kept its finished tasks grew by 19 MiB in 2 minutes).
    let warm = rss.get(3).or(rss.first()).copied().unwrap_or(0);
    let last = rss.last().copied().unwrap_or(0);
    let peak = rss.iter().copied().max().unwrap_or(0);
    println!(
        "  RSS (KiB) after warm-up {warm}, at the end {last}, peak {peak}; growth {} KiB over {} samples",
        last as i64 - warm as i64,
        rss.len()
    );
    if last > warm + 8 * 1024 {
        problems.push(format!("RSS grew from {warm} to {last} KiB"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let trial = libtest_mimic::Trial::test("soak", || Ok(run()?));
    libtest_mimic::run(&args, vec![trial]).exit();
}
