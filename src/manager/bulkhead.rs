//! The bulkhead: at most `max_in_flight` calls to a cattackle at once, `max_pending` more
//! waiting for a place (first come, first served), and any beyond rejected at once. A call holds
//! its place for all its attempts and backoff; its wait counts against its deadline.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One cattackle's places.
pub(super) struct Bulkhead {
    pub(super) limits: (u32, u32),
    pub(super) places: Arc<Semaphore>,
    pub(super) waiting: Arc<AtomicU32>,
}

/// Every cattackle's bulkhead, for those that configure `max_in_flight`.
pub(super) type Bulkheads = std::sync::Mutex<HashMap<String, Bulkhead>>;

/// A call's place; freed when dropped.
pub(super) struct Place {
    pub(super) _permit: Option<OwnedSemaphorePermit>,
}

/// Leaves the queue when the wait ends, however it ends.
pub(super) struct Waiting(pub(super) Arc<AtomicU32>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Bulkhead {
    pub(super) fn new(limits: (u32, u32)) -> Self {
        Self {
            limits,
            places: Arc::new(Semaphore::new(limits.0 as usize)),
            waiting: Arc::new(AtomicU32::new(0)),
        }
    }
}
