//! Long-lived sessions: keep-alive probes of an idle session, `idle_timeout`, and eager
//! reconnection.
//!
//! A session opened for a configuration with `keepalive_interval` or `idle_timeout` gets a
//! watcher task. It holds the session weakly, and ends when the session is retired or gone.
//! - Every `keepalive_interval` (±10 %, drawn from the backoff seed and the session's number)
//!   an idle session is probed: `ping` (`server/discover` in the 2026 era), or `tools/list` when
//!   `health_check` asks for it, bounded by `timeout`. A session with calls in flight is not
//!   probed: its calls show whether it is alive. Probes are not attempts of any call.
//! - After `keepalive_failures` missed probes in a row the session is retired and closed
//!   (`keep-alive failed`). With `reconnect = "eager"` a new one is opened at once; failed
//!   openings back off as gRPC's connection backoff does (1 s × 1.6, ±20 %, at most 120 s),
//!   reset by a successful handshake.
//! - A session nobody has used for `idle_timeout` is closed (`idle timeout`).

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::time::Instant;

use super::ManagerEvent;
use super::core::Core;
use super::session::{Retirement, Session};
use super::slot::Slot;
use crate::config::{CattackleConfig, HealthCheck, Reconnect};

impl Core {
    /// Starts the watcher of a session that has just become the slot's ready one.
    pub(super) fn watch(
        self: &Arc<Self>,
        config: &CattackleConfig,
        slot: &Arc<Slot>,
        session: &Arc<Session>,
    ) {
        let mcp = &config.mcp;
        if mcp.keepalive_interval.is_none() && mcp.idle_timeout.is_none() {
            return;
        }
        let seed = mcp.backoff.seed.unwrap_or(0) ^ session.id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let watcher = Watcher {
            core: Arc::downgrade(self),
            slot: Arc::downgrade(slot),
            session: Arc::downgrade(session),
            ended: session.ended_signal(),
            config: config.clone(),
            rng: fastrand::Rng::with_seed(seed),
        };
        // Not in the closing tracker: it holds nothing open, and ends with its session.
        tokio::spawn(watcher.run());
    }
}

struct Watcher {
    core: Weak<Core>,
    slot: Weak<Slot>,
    session: Weak<Session>,
    ended: tokio::sync::watch::Receiver<bool>,
    config: CattackleConfig,
    rng: fastrand::Rng,
}

impl Watcher {
    async fn run(mut self) {
        let mcp = self.config.mcp.clone();
        let mut missed = 0;
        let mut last_probe: Option<Instant> = None;
        let mut every = self.interval();
        loop {
            let Some(session) = self.session.upgrade().filter(|s| !s.is_retired()) else {
                return;
            };
            let now = Instant::now();
            let wait = match session.idle_since() {
                // Busy: its calls show whether it is alive; look again a probe interval on.
                None => every.or(mcp.idle_timeout).unwrap_or(Duration::from_secs(1)),
                Some(since) => {
                    let quiet = last_probe.map_or(since, |p| p.max(since));
                    let probe_at = every.map(|e| crate::util::saturating_add(quiet, e));
                    let idle_at = mcp
                        .idle_timeout
                        .map(|t| crate::util::saturating_add(since, t));
                    let next = match (probe_at, idle_at) {
                        (Some(p), Some(i)) => p.min(i),
                        (Some(p), None) => p,
                        (None, Some(i)) => i,
                        (None, None) => return,
                    };
                    if next > now {
                        next - now
                    } else if idle_at.is_some_and(|i| i <= now) {
                        self.retire(&session, "idle timeout");
                        return;
                    } else {
                        // A probe is due.
                        let Some(core) = self.core.upgrade() else {
                            return;
                        };
                        let check = match mcp.health_check {
                            HealthCheck::ToolsList => HealthCheck::ToolsList,
                            _ => HealthCheck::Ping,
                        };
                        let ok = session.is_healthy(check, mcp.timeout).await;
                        last_probe = Some(Instant::now());
                        every = self.interval();
                        core.report(|| ManagerEvent::KeepAlive {
                            cattackle: self.config.name.clone(),
                            session: session.id,
                            ok,
                        });
                        missed = if ok { 0 } else { missed + 1 };
                        if missed >= mcp.keepalive_failures {
                            self.retire(&session, "keep-alive failed");
                            if mcp.reconnect == Reconnect::Eager {
                                drop((session, core));
                                reconnect(&self.core, &self.config).await;
                            }
                            return;
                        }
                        continue;
                    }
                }
            };
            drop(session);
            if !self.sleep(wait).await {
                return;
            }
        }
    }

    /// Sleeps `wait`; `false` when the session ended meanwhile.
    async fn sleep(&mut self, wait: Duration) -> bool {
        let mut ended = self.ended.clone();
        tokio::select! {
            () = tokio::time::sleep(wait) => true,
            _ = ended.wait_for(|e| *e) => false,
        }
    }

    /// The next probe interval, ±10 %.
    fn interval(&mut self) -> Option<Duration> {
        let every = self.config.mcp.keepalive_interval?;
        Some(every.mul_f64(0.9 + 0.2 * self.rng.f64()))
    }

    fn retire(&self, session: &Arc<Session>, reason: &'static str) {
        let Some(core) = self.core.upgrade() else {
            return;
        };
        tracing::info!(cattackle = %self.config.name, session = session.id, "{reason}: closing the session");
        let slot = self.slot.upgrade();
        let retirement = Retirement::new(reason, self.config.mcp.shutdown_grace);
        core.retire(slot.as_deref(), session, retirement, 0);
    }
}

/// Opens a new session at once, backing off as gRPC does between failed openings; stops when
/// the manager is gone or a session is open.
async fn reconnect(core: &Weak<Core>, config: &CattackleConfig) {
    let mut rng = fastrand::Rng::with_seed(config.mcp.backoff.seed.unwrap_or(0));
    let mut backoff = Duration::from_secs(1);
    let generation = core
        .upgrade()
        .map(|c| c.generation.load(std::sync::atomic::Ordering::SeqCst));
    loop {
        let Some(strong) = core.upgrade() else { return };
        if Some(strong.generation.load(std::sync::atomic::Ordering::SeqCst)) != generation {
            return; // every session was closed meanwhile: nobody wants this one
        }
        match strong.lease(config).await {
            Ok(lease) => {
                drop(lease);
                return;
            }
            Err(e) => {
                let wait = backoff.mul_f64(0.8 + 0.4 * rng.f64());
                tracing::warn!(cattackle = %config.name, "eager reconnect failed ({}); again in {wait:?}", e.summary());
                drop(strong);
                tokio::time::sleep(wait).await;
                backoff = backoff.mul_f64(1.6).min(Duration::from_secs(120));
            }
        }
    }
}
