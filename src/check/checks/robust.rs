//! Robustness: 32 requests in flight on one session, a cancelled request, 20 sessions in a row;
//! and figures: cold start, latency.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::super::ctx::{Ctx, Era};
use super::super::model::{Finding, Verdict};
use super::super::wire::Wire;
use super::one;

/// Requests in flight at once.
const IN_FLIGHT: usize = 32;
/// Sessions opened and closed in a row.
const SESSIONS: usize = 20;
/// Calls timed per command.
const TIMED_CALLS: usize = 100;

/// What the robustness checks send: a declared command with the contract payload, or for a
/// plain server a request every server answers.
fn probe(ctx: &Ctx, n: usize) -> (&'static str, Value) {
    match ctx.commands().first() {
        Some(command) => (
            "tools/call",
            json!({ "name": command, "arguments": ctx.payload(&format!("concurrent {n}")) }),
        ),
        None if ctx.options.era == Era::Discover => ("server/discover", json!({})),
        None => ("ping", json!({})),
    }
}

/// 32 requests sent at once on one session are all answered, each under its own id.
pub(crate) async fn concurrent(ctx: Ctx) -> Vec<Finding> {
    let started = start_or!(ctx);
    let wire = started.wire.clone();
    let asks = (0..IN_FLIGHT).map(|n| {
        let (method, params) = probe(&ctx, n);
        let wire = wire.clone();
        let bound = ctx.bound();
        async move { wire.request(method, params, bound).await }
    });
    let answers = futures::future::join_all(asks).await;
    let missing: Vec<String> = answers
        .iter()
        .enumerate()
        .filter_map(|(n, a)| a.as_ref().err().map(|e| format!("request {}: {e}", n + 1)))
        .collect();
    let verdict = if missing.is_empty() {
        Verdict::Pass(format!("{IN_FLIGHT} of {IN_FLIGHT} answered"))
    } else {
        let mut evidence: Vec<String> = missing.iter().take(5).cloned().collect();
        evidence.extend(ctx.stderr_evidence(&wire).await);
        Verdict::Violated {
            message: format!(
                "{} of {IN_FLIGHT} concurrent requests got no answer",
                missing.len()
            ),
            evidence,
        }
    };
    wire.close(ctx.grace()).await;
    one(verdict)
}

/// After `notifications/cancelled` for a request in flight, the server serves the next one.
pub(crate) async fn cancel(ctx: Ctx) -> Vec<Finding> {
    let started = start_or!(ctx);
    let wire = started.wire.clone();
    let (method, params) = match ctx.commands().first() {
        Some(command) => (
            "tools/call",
            json!({ "name": command, "arguments": ctx.payload("to be cancelled") }),
        ),
        None => ("tools/list", json!({})),
    };
    let id = json!("cattackle-check-cancelled");
    let pending = {
        let wire = wire.clone();
        let id = id.clone();
        let bound = ctx.bound();
        tokio::spawn(async move { wire.request_with_id(id, method, params, bound).await })
    };
    tokio::time::sleep(Duration::from_millis(5)).await;
    let _ = wire
        .notify(
            "notifications/cancelled",
            json!({ "requestId": id, "reason": "cattackle check" }),
        )
        .await;
    let verdict = match ctx.survives(&wire).await {
        Ok(()) => Verdict::Pass("serves the next request".to_owned()),
        Err(v) => v,
    };
    pending.abort();
    wire.close(ctx.grace()).await;
    one(verdict)
}

/// 20 sessions opened (with the handshake) and closed in a row all work.
pub(crate) async fn sessions(ctx: Ctx) -> Vec<Finding> {
    let began = Instant::now();
    for n in 1..=SESSIONS {
        let started = match ctx.start().await {
            Ok(started) => started,
            Err(Verdict::Violated { message, evidence }) => {
                return one(Verdict::Violated {
                    message: format!("session {n} of {SESSIONS}: {message}"),
                    evidence,
                });
            }
            Err(other) => return one(other),
        };
        // What a session leaves of its process group is `stdio.no-orphans`' finding.
        started.wire.close(ctx.grace()).await;
    }
    one(Verdict::Pass(format!(
        "{SESSIONS} sessions in {:.0} ms",
        began.elapsed().as_secs_f64() * 1000.0
    )))
}

/// Figure: spawn or connect plus the handshake, once.
pub(crate) async fn cold_start(ctx: Ctx) -> Vec<Finding> {
    let began = Instant::now();
    let started = start_or!(ctx);
    let took = began.elapsed();
    started.wire.close(ctx.grace()).await;
    one(Verdict::Info(format!(
        "{:.1} ms to a finished handshake",
        ms(took)
    )))
}

/// Figure: p50 and p99 of 100 calls in a row, per command (100 pings for a plain server).
pub(crate) async fn latency(ctx: Ctx) -> Vec<Finding> {
    let started = start_or!(ctx);
    let wire = started.wire.clone();
    let subjects: Vec<Option<String>> = match ctx.commands() {
        c if c.is_empty() => vec![None],
        c => c.into_iter().map(Some).collect(),
    };
    let mut findings = Vec::new();
    for subject in subjects {
        let verdict = time(&ctx, &wire, subject.as_deref()).await;
        findings.push(Finding { subject, verdict });
    }
    wire.close(ctx.grace()).await;
    findings
}

async fn time(ctx: &Ctx, wire: &Arc<Wire>, command: Option<&str>) -> Verdict {
    let mut took = Vec::with_capacity(TIMED_CALLS);
    for n in 0..TIMED_CALLS {
        let (method, params) = match command {
            Some(c) => (
                "tools/call",
                json!({ "name": c, "arguments": ctx.payload(&format!("timed {n}")) }),
            ),
            None => probe(ctx, n),
        };
        let began = Instant::now();
        if let Err(e) = wire.request(method, params, ctx.bound()).await {
            return Verdict::Info(format!("stopped after {n} calls: {e}"));
        }
        took.push(began.elapsed());
    }
    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q).ceil() as usize).clamp(1, took.len()) - 1];
    Verdict::Info(format!(
        "p50 {:.2} ms, p99 {:.2} ms over {TIMED_CALLS} calls",
        ms(at(0.5)),
        ms(at(0.99))
    ))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
