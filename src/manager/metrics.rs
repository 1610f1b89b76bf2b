//! The manager's metrics, per cattackle, in Prometheus' data model (`prometheus-client`): read
//! as a typed [`MetricsSnapshot`] (counters and gauges), or encoded as OpenMetrics text
//! (everything, with the latency histograms). Labels carry the cattackle's
//! name and stable names (outcome kinds, reasons, states) only: never payloads, users or secrets.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::{BreakerState, ErrorKind, ManagerEvent};
use crate::util::lock;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByCattackle {
    cattackle: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByOutcome {
    cattackle: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByReason {
    cattackle: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByTransition {
    cattackle: String,
    from: String,
    to: String,
}

type Seconds = Family<ByCattackle, Histogram, fn() -> Histogram>;

/// 100 µs to about 105 s, doubling.
fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 21))
}

/// The manager's metrics.
pub(super) struct Metrics {
    registry: Registry,
    calls: Family<ByOutcome, Counter>,
    attempts: Family<ByCattackle, Counter>,
    retries: Family<ByCattackle, Counter>,
    timeouts: Family<ByCattackle, Counter>,
    probes: Family<ByOutcome, Counter>,
    sessions_opened: Family<ByCattackle, Counter>,
    sessions_closed: Family<ByReason, Counter>,
    server_requests_dropped: Family<ByCattackle, Counter>,
    rejections: Family<ByReason, Counter>,
    breaker_transitions: Family<ByTransition, Counter>,
    in_flight: Family<ByCattackle, Gauge>,
    sessions_live: Family<ByCattackle, Gauge>,
    breaker_state: Family<ByCattackle, Gauge>,
    call_seconds: Seconds,
    attempt_seconds: Seconds,
    /// The label values seen, for the typed snapshot (the families cannot be listed).
    seen: std::sync::Mutex<Seen>,
    /// Each cattackle's metrics on the call path, looked up once per call.
    hot: std::sync::RwLock<std::collections::HashMap<String, std::sync::Arc<Hot>>>,
}

/// The metrics every call touches, for one cattackle: handles into the families (a clone of a
/// metric shares its value), so that a call costs a map lookup and a few atomic additions.
pub(super) struct Hot {
    in_flight: Gauge,
    ok: Counter,
    attempts: Counter,
    retries: Counter,
    timeouts: Counter,
    call_seconds: Histogram,
    attempt_seconds: Histogram,
}

impl Hot {
    /// An attempt starts (1-based).
    pub(super) fn attempt_started(&self, attempt: u32) {
        self.attempts.inc();
        if attempt > 1 {
            self.retries.inc();
        }
    }

    /// An attempt ended after `took`; `timed_out` when it did.
    pub(super) fn attempt_ended(&self, took: Duration, timed_out: bool) {
        self.attempt_seconds.observe(took.as_secs_f64());
        if timed_out {
            self.timeouts.inc();
        }
    }
}

#[derive(Default)]
struct Seen {
    cattackles: BTreeSet<String>,
    closed: BTreeSet<(String, &'static str)>,
    transitions: BTreeSet<(String, &'static str, &'static str)>,
}

/// One cattackle's metrics, as numbers.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct CattackleMetrics {
    /// Calls ended, by outcome: `ok`, or an error kind (`exhausted`, `circuit_open`, …).
    pub calls: BTreeMap<String, u64>,
    /// Attempts started.
    pub attempts: u64,
    /// Attempts after the first of their call.
    pub retries: u64,
    /// Attempts that timed out.
    pub timeouts: u64,
    /// Keep-alive probes, by outcome: `answered`, `missed`.
    pub keepalive_probes: BTreeMap<String, u64>,
    /// Sessions opened.
    pub sessions_opened: u64,
    /// Sessions closed, by reason (`drained: its last call ended`, `call timed out`, …).
    pub sessions_closed: BTreeMap<String, u64>,
    /// Calls rejected before or between attempts, by kind (`circuit_open`, `bulkhead_full`,
    /// `retry_budget_exhausted`).
    pub rejections: BTreeMap<String, u64>,
    /// Breaker changes, as `from->to`.
    pub breaker_transitions: BTreeMap<String, u64>,
    /// Calls in flight now.
    pub in_flight: i64,
    /// Sessions open now.
    pub sessions_live: i64,
    /// The breaker's state, if it has one: `closed`, `open`, `half_open`.
    pub breaker: Option<&'static str>,
}

/// Every cattackle's metrics, by name.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct MetricsSnapshot {
    /// By cattackle name.
    pub cattackles: BTreeMap<String, CattackleMetrics>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("cattackle");
        let mut this = Self {
            calls: Family::default(),
            attempts: Family::default(),
            retries: Family::default(),
            timeouts: Family::default(),
            probes: Family::default(),
            sessions_opened: Family::default(),
            sessions_closed: Family::default(),
            server_requests_dropped: Family::default(),
            rejections: Family::default(),
            breaker_transitions: Family::default(),
            in_flight: Family::default(),
            sessions_live: Family::default(),
            breaker_state: Family::default(),
            call_seconds: Family::new_with_constructor(latency_buckets),
            attempt_seconds: Family::new_with_constructor(latency_buckets),
            seen: Default::default(),
            hot: Default::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "calls",
            "Calls ended, by outcome (ok or an error kind)",
            this.calls.clone(),
        );
        r.register("attempts", "Attempts started", this.attempts.clone());
        r.register(
            "retries",
            "Attempts after the first of their call",
            this.retries.clone(),
        );
        r.register("timeouts", "Attempts that timed out", this.timeouts.clone());
        r.register(
            "keepalive_probes",
            "Keep-alive probes, by outcome (answered, missed)",
            this.probes.clone(),
        );
        r.register(
            "sessions_opened",
            "Sessions opened",
            this.sessions_opened.clone(),
        );
        r.register(
            "sessions_closed",
            "Sessions closed, by reason",
            this.sessions_closed.clone(),
        );
        r.register(
            "server_requests_dropped",
            "Requests of the server's own dropped past the bound of 64 unanswered (counted as its session closes)",
            this.server_requests_dropped.clone(),
        );
        r.register(
            "rejections",
            "Calls rejected: circuit_open, bulkhead_full, retry_budget_exhausted",
            this.rejections.clone(),
        );
        r.register(
            "breaker_transitions",
            "Circuit breaker changes of state",
            this.breaker_transitions.clone(),
        );
        r.register("calls_in_flight", "Calls in flight", this.in_flight.clone());
        r.register("sessions_live", "Sessions open", this.sessions_live.clone());
        r.register(
            "breaker_state",
            "Circuit breaker state: 0 closed, 1 open, 2 half-open",
            this.breaker_state.clone(),
        );
        r.register(
            "call_duration_seconds",
            "Call latency",
            this.call_seconds.clone(),
        );
        r.register(
            "attempt_duration_seconds",
            "Attempt latency",
            this.attempt_seconds.clone(),
        );
        this.registry = registry;
        this
    }
}

fn by(cattackle: &str) -> ByCattackle {
    ByCattackle {
        cattackle: cattackle.to_owned(),
    }
}

fn reason(cattackle: &str, reason: &str) -> ByReason {
    ByReason {
        cattackle: cattackle.to_owned(),
        reason: reason.to_owned(),
    }
}

impl Metrics {
    /// The cattackle's call-path metrics, made on its first call.
    pub(super) fn hot(&self, cattackle: &str) -> std::sync::Arc<Hot> {
        if let Some(hot) = self
            .hot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(cattackle)
        {
            return hot.clone();
        }
        let b = by(cattackle);
        let ok = ByOutcome {
            cattackle: cattackle.to_owned(),
            outcome: "ok".to_owned(),
        };
        let hot = std::sync::Arc::new(Hot {
            in_flight: self.in_flight.get_or_create(&b).clone(),
            ok: self.calls.get_or_create(&ok).clone(),
            attempts: self.attempts.get_or_create(&b).clone(),
            retries: self.retries.get_or_create(&b).clone(),
            timeouts: self.timeouts.get_or_create(&b).clone(),
            call_seconds: self.call_seconds.get_or_create(&b).clone(),
            attempt_seconds: self.attempt_seconds.get_or_create(&b).clone(),
        });
        lock(&self.seen).cattackles.insert(cattackle.to_owned());
        self.hot
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(cattackle.to_owned())
            .or_insert(hot)
            .clone()
    }

    /// A call starts: one more in flight.
    pub(super) fn call_started(&self, hot: &Hot) {
        hot.in_flight.inc();
    }

    /// A call ended with `outcome` (`None`: ok) after `took`.
    pub(super) fn call_ended(
        &self,
        hot: &Hot,
        cattackle: &str,
        outcome: Option<ErrorKind>,
        took: Duration,
    ) {
        hot.in_flight.dec();
        match outcome {
            None => {
                hot.ok.inc();
            }
            Some(kind) => {
                let labels = ByOutcome {
                    cattackle: cattackle.to_owned(),
                    outcome: kind.as_str().to_owned(),
                };
                self.calls.get_or_create(&labels).inc();
            }
        }
        hot.call_seconds.observe(took.as_secs_f64());
    }

    /// Counts what an event says.
    pub(super) fn observe(&self, event: &ManagerEvent) {
        match event {
            // Attempts are counted on the call path (see [`Hot`]), without an event.
            ManagerEvent::CallRejected {
                cattackle, kind, ..
            } => {
                self.rejections
                    .get_or_create(&reason(cattackle, kind.as_str()))
                    .inc();
            }
            ManagerEvent::BreakerChanged {
                cattackle,
                from,
                to,
                ..
            } => {
                let labels = ByTransition {
                    cattackle: cattackle.clone(),
                    from: from.as_str().to_owned(),
                    to: to.as_str().to_owned(),
                };
                self.breaker_transitions.get_or_create(&labels).inc();
                let value = match to {
                    BreakerState::Closed => 0,
                    BreakerState::Open => 1,
                    BreakerState::HalfOpen => 2,
                };
                self.breaker_state.get_or_create(&by(cattackle)).set(value);
                lock(&self.seen).transitions.insert((
                    cattackle.clone(),
                    from.as_str(),
                    to.as_str(),
                ));
            }
            ManagerEvent::KeepAlive { cattackle, ok, .. } => {
                let labels = ByOutcome {
                    cattackle: cattackle.clone(),
                    outcome: if *ok { "answered" } else { "missed" }.to_owned(),
                };
                self.probes.get_or_create(&labels).inc();
            }
            ManagerEvent::ServerRequestsDropped {
                cattackle, dropped, ..
            } => {
                self.server_requests_dropped
                    .get_or_create(&by(cattackle))
                    .inc_by(*dropped);
            }
            ManagerEvent::SessionOpened { cattackle, .. } => {
                self.sessions_opened.get_or_create(&by(cattackle)).inc();
                self.sessions_live.get_or_create(&by(cattackle)).inc();
            }
            ManagerEvent::SessionClosed {
                cattackle,
                reason: why,
                ..
            } => {
                self.sessions_closed
                    .get_or_create(&reason(cattackle, why))
                    .inc();
                self.sessions_live.get_or_create(&by(cattackle)).dec();
                lock(&self.seen).closed.insert((cattackle.clone(), why));
            }
            _ => {}
        }
    }

    /// Everything, as OpenMetrics text.
    pub(super) fn encode(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }

    /// Everything, as numbers.
    pub(super) fn snapshot(
        &self,
        breaker: impl Fn(&str) -> Option<BreakerState>,
    ) -> MetricsSnapshot {
        let seen = lock(&self.seen);
        let mut out = MetricsSnapshot::default();
        let count = |c: Option<u64>| c.unwrap_or(0);
        for name in &seen.cattackles {
            let b = by(name);
            let mut m = CattackleMetrics {
                attempts: count(self.attempts.get(&b).map(|c| c.get())),
                retries: count(self.retries.get(&b).map(|c| c.get())),
                timeouts: count(self.timeouts.get(&b).map(|c| c.get())),
                sessions_opened: count(self.sessions_opened.get(&b).map(|c| c.get())),
                in_flight: self.in_flight.get(&b).map_or(0, |g| g.get()),
                sessions_live: self.sessions_live.get(&b).map_or(0, |g| g.get()),
                breaker: breaker(name).map(BreakerState::as_str),
                ..CattackleMetrics::default()
            };
            for kind in ErrorKind::ALL
                .map(ErrorKind::as_str)
                .into_iter()
                .chain(["ok"])
            {
                let labels = ByOutcome {
                    cattackle: name.clone(),
                    outcome: kind.to_owned(),
                };
                if let Some(c) = self.calls.get(&labels) {
                    m.calls.insert(kind.to_owned(), c.get());
                }
                if let Some(c) = self.rejections.get(&reason(name, kind)) {
                    m.rejections.insert(kind.to_owned(), c.get());
                }
            }
            for outcome in ["answered", "missed"] {
                let labels = ByOutcome {
                    cattackle: name.clone(),
                    outcome: outcome.to_owned(),
                };
                if let Some(c) = self.probes.get(&labels) {
                    m.keepalive_probes.insert(outcome.to_owned(), c.get());
                }
            }
            for (_, why) in seen.closed.iter().filter(|(c, _)| c == name) {
                if let Some(c) = self.sessions_closed.get(&reason(name, why)) {
                    m.sessions_closed.insert((*why).to_owned(), c.get());
                }
            }
            for (_, from, to) in seen.transitions.iter().filter(|(c, ..)| c == name) {
                let labels = ByTransition {
                    cattackle: name.clone(),
                    from: (*from).to_owned(),
                    to: (*to).to_owned(),
                };
                if let Some(c) = self.breaker_transitions.get(&labels) {
                    m.breaker_transitions
                        .insert(format!("{from}->{to}"), c.get());
                }
            }
            out.cattackles.insert(name.clone(), m);
        }
        out
    }
}
