//! What stands in front of calls: the bulkhead before a call (a place, a wait, or a
//! rejection) and the breaker before each attempt (admit or reject, record the result, report
//! each change of state).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rmcp::model::CallToolResult;
use tokio::time::Instant;

use super::breaker::{Breaker, BreakerState, Ticket, Transition};
use super::bulkhead::{Bulkhead, Place, Waiting};
use super::core::Core;
use super::{CattackleError, ManagerEvent, Unavailability};
use std::time::Duration;

use tower::retry::budget::{Budget, TpsBudget};

use crate::config::{CattackleConfig, RetryBudgetConfig};
use crate::util::lock;

impl Core {
    /// Lets an attempt of call `call` through the cattackle's breaker (`None`: it has none), or
    /// rejects it as unavailable.
    pub(super) fn admit(
        self: &Arc<Self>,
        config: &CattackleConfig,
        call: u64,
    ) -> Result<Option<Ticket>, CattackleError> {
        let Some(breaker_config) = &config.mcp.breaker else {
            self.forget(&self.breakers, &config.name);
            return Ok(None);
        };
        self.guarding();
        let mut breakers = lock(&self.breakers);
        let breaker = breakers
            .entry(config.name.clone())
            .or_insert_with(|| Breaker::new(breaker_config.clone()));
        if breaker.config() != breaker_config {
            *breaker = Breaker::new(breaker_config.clone());
        }
        let admitted = breaker.admit(Instant::now());
        drop(breakers);
        match admitted {
            Ok((ticket, transition)) => {
                if let Some(t) = transition {
                    self.report_transition(&config.name, t);
                }
                Ok(Some(ticket))
            }
            Err(retry_after) => Err(self.rejected(config, call, retry_after)),
        }
    }

    /// Whether a retry after `delay` would find the breaker still open: then the call is
    /// rejected now, rather than after a backoff that cannot end in an attempt.
    pub(super) fn blocked_after(
        &self,
        config: &CattackleConfig,
        call: u64,
        delay: std::time::Duration,
    ) -> Option<CattackleError> {
        let at = crate::util::saturating_add(Instant::now(), delay);
        let wait = lock(&self.breakers).get(&config.name)?.blocked_at(at)?;
        Some(self.rejected(config, call, wait.saturating_add(delay)))
    }

    fn rejected(
        &self,
        config: &CattackleConfig,
        call: u64,
        retry_after: std::time::Duration,
    ) -> CattackleError {
        self.unavailable(
            config,
            call,
            Unavailability::CircuitOpen,
            Some(retry_after),
            None,
        )
    }

    /// The cattackle is unavailable to call `call`: the typed error (with its fallback), reported
    /// as a rejection.
    fn unavailable(
        &self,
        config: &CattackleConfig,
        call: u64,
        why: Unavailability,
        retry_after: Option<std::time::Duration>,
        last: Option<CattackleError>,
    ) -> CattackleError {
        let error = CattackleError::Unavailable {
            cattackle: config.name.clone(),
            why,
            retry_after,
            fallback: config.mcp.fallback.clone(),
            last: last.map(Box::new),
        };
        self.report(|| ManagerEvent::CallRejected {
            cattackle: config.name.clone(),
            call,
            kind: error.kind(),
            retry_after,
        });
        error
    }

    /// Records an attempt's result with the breaker that admitted it.
    pub(super) fn record(
        &self,
        config: &CattackleConfig,
        ticket: Option<Ticket>,
        result: &Result<CallToolResult, CattackleError>,
    ) {
        let Some(ticket) = ticket else { return };
        let failed = result.as_ref().err().is_some_and(|e| e.is_health_failure());
        let transition = lock(&self.breakers)
            .get_mut(&config.name)
            .and_then(|b| b.record(ticket, failed, Instant::now()));
        if let Some(t) = transition {
            self.report_transition(&config.name, t);
        }
    }

    fn report_transition(&self, cattackle: &str, t: Transition) {
        tracing::info!(
            cattackle,
            "circuit breaker {} → {} ({})",
            t.from.as_str(),
            t.to.as_str(),
            t.reason
        );
        self.report(|| ManagerEvent::BreakerChanged {
            cattackle: cattackle.to_owned(),
            from: t.from,
            to: t.to,
            reason: t.reason,
            retry_in: t.retry_in,
        });
    }

    /// The cattackle's breaker state, if it has a breaker.
    pub(super) fn breaker_state(&self, name: &str) -> Option<BreakerState> {
        lock(&self.breakers).get(name).map(Breaker::state)
    }
}

impl Core {
    /// A place for call `call`: at once, after a wait in the queue (until `end` at most), or
    /// a rejection when the places and the queue are full (or the deadline passed waiting).
    pub(super) async fn enter(
        &self,
        config: &CattackleConfig,
        call: u64,
        end: Option<Instant>,
    ) -> Result<Place, CattackleError> {
        let Some(max) = config.mcp.max_in_flight else {
            self.forget(&self.bulkheads, &config.name);
            return Ok(Place { _permit: None });
        };
        self.guarding();
        let limits = (max, config.mcp.max_pending);
        let (places, waiting) = {
            let mut all = lock(&self.bulkheads);
            let bulkhead = all
                .entry(config.name.clone())
                .or_insert_with(|| Bulkhead::new(limits));
            if bulkhead.limits != limits {
                // A reload changed the limits: calls in flight keep their places in the old one.
                *bulkhead = Bulkhead::new(limits);
            }
            (bulkhead.places.clone(), bulkhead.waiting.clone())
        };
        if let Ok(permit) = places.clone().try_acquire_owned() {
            return Ok(Place {
                _permit: Some(permit),
            });
        }
        let queued = waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(waiting);
        if queued >= limits.1 {
            return Err(self.full(config, call, limits));
        }
        let acquire = places.acquire_owned();
        let permit = match end {
            None => acquire.await,
            Some(end) => match tokio::time::timeout_at(end, acquire).await {
                Ok(permit) => permit,
                Err(_) => {
                    return Err(CattackleError::DeadlineExceeded {
                        cattackle: config.name.clone(),
                        deadline: config.mcp.deadline.unwrap_or_default(),
                        attempts: 0,
                        last: None,
                    });
                }
            },
        };
        // The semaphore is never closed, so the wait ends with a place.
        Ok(Place {
            _permit: permit.ok(),
        })
    }

    fn full(
        &self,
        config: &CattackleConfig,
        call: u64,
        (in_flight, pending): (u32, u32),
    ) -> CattackleError {
        let why = Unavailability::BulkheadFull { in_flight, pending };
        self.unavailable(config, call, why, None, None)
    }
}

impl Core {
    /// Drops the cattackle's state in `map` (a reload removed the feature). Until some
    /// configuration has used a breaker, bulkhead or budget there is none to drop, and the call
    /// path takes no lock for it.
    fn forget<T>(&self, map: &std::sync::Mutex<std::collections::HashMap<String, T>>, name: &str) {
        if self.guarded.load(Ordering::Relaxed) {
            lock(map).remove(name);
        }
    }

    /// Notes that a configuration uses a breaker, bulkhead or budget (see [`Self::forget`]).
    fn guarding(&self) {
        if !self.guarded.load(Ordering::Relaxed) {
            self.guarded.store(true, Ordering::Relaxed);
        }
    }

    /// Puts the call's deposit in the cattackle's retry budget (none configured: nothing).
    pub(super) fn deposit(&self, config: &CattackleConfig) {
        if let Some(budget) = self.budget(config) {
            budget.deposit();
        }
    }

    /// Takes one retry out of the cattackle's retry budget; an empty budget makes the call
    /// unavailable, with the failure it would have retried.
    pub(super) fn withdraw(
        &self,
        config: &CattackleConfig,
        call: u64,
        last: CattackleError,
    ) -> Result<CattackleError, CattackleError> {
        let Some(budget) = self.budget(config) else {
            return Ok(last);
        };
        if budget.withdraw() {
            return Ok(last);
        }
        let why = Unavailability::RetryBudgetEmpty;
        Err(self.unavailable(config, call, why, None, Some(last)))
    }

    fn budget(&self, config: &CattackleConfig) -> Option<Arc<TpsBudget>> {
        let Some(wanted) = &config.mcp.retry_budget else {
            self.forget(&self.budgets, &config.name);
            return None;
        };
        self.guarding();
        let mut budgets = lock(&self.budgets);
        let (made_with, budget) = budgets
            .entry(config.name.clone())
            .or_insert_with(|| (wanted.clone(), Arc::new(new_budget(wanted))));
        if made_with != wanted {
            *made_with = wanted.clone();
            *budget = Arc::new(new_budget(wanted));
        }
        Some(budget.clone())
    }
}

/// tower's budget, from a configuration the parser has bounded (ttl 1–60 s, percent 0–1000).
fn new_budget(config: &RetryBudgetConfig) -> TpsBudget {
    let ttl = config
        .ttl
        .clamp(Duration::from_secs(1), Duration::from_secs(60));
    let percent = config.percent.clamp(0.0, 1000.0);
    TpsBudget::new(ttl, config.min_per_sec.min(1_000_000), percent)
}
