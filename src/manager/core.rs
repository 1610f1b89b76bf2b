//! [`Core`]: the state the manager's parts share; openings and leases hold it.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use tokio_util::task::TaskTracker;
use tower::retry::budget::TpsBudget;

use super::breaker::Breaker;
use super::bulkhead::Bulkheads;
use super::metrics::Metrics;
use super::slot::Slots;
use super::{ManagerEvent, Observer};
use crate::config::RetryBudgetConfig;
use crate::transport::Connector;

/// What the manager's parts share; openings and leases hold it.
pub(super) struct Core {
    pub(super) connector: Arc<dyn Connector>,
    pub(super) slots: Slots,
    pub(super) closing: TaskTracker,
    pub(super) next_session: AtomicU64,
    pub(super) next_call: AtomicU64,
    pub(super) sessions_expired: AtomicU64,
    pub(super) observer: Option<Observer>,
    /// Each cattackle's circuit breaker, for those that configure one.
    pub(super) breakers: Mutex<HashMap<String, Breaker>>,
    /// Each cattackle's bulkhead, for those that configure `max_in_flight`.
    pub(super) bulkheads: Bulkheads,
    /// Whether any configuration has used a breaker, bulkhead or retry budget yet.
    pub(super) guarded: std::sync::atomic::AtomicBool,
    /// Bumped when every session is closed: an eager reconnection under way stops.
    pub(super) generation: AtomicU64,
    /// Counts of everything the manager does.
    pub(super) metrics: Metrics,
    /// Each cattackle's retry budget (and the configuration it was made with).
    pub(super) budgets: Mutex<HashMap<String, (RetryBudgetConfig, Arc<TpsBudget>)>>,
}

impl Core {
    /// Reports an event to the metrics and the observer.
    pub(super) fn report(&self, event: impl FnOnce() -> ManagerEvent) {
        let event = event();
        self.metrics.observe(&event);
        if let Some(observer) = &self.observer {
            observer(&event);
        }
    }

    /// Reports an event of the call path (an attempt started or failed) to the observer only,
    /// made only when there is one: its metrics are counted where it happens.
    pub(super) fn report_attempt(&self, event: impl FnOnce() -> ManagerEvent) {
        if let Some(observer) = &self.observer {
            observer(&event());
        }
    }
}
