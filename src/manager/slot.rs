//! Each cattackle's slot: its ready session, or the one opening under way (see
//! [`super::lease`] for how callers use them).

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use futures::future::WeakShared;

use super::CattackleError;
use super::session::Session;
use crate::transport::BoxFuture;
use crate::util::lock;

pub(super) type Opening = BoxFuture<'static, Result<Arc<Session>, CattackleError>>;

/// Every cattackle's slot, by name.
#[derive(Default)]
pub(super) struct Slots {
    map: Mutex<HashMap<String, Arc<Slot>>>,
}

impl Slots {
    pub(super) fn get_or_create(&self, name: &str) -> Arc<Slot> {
        let mut map = lock(&self.map);
        if let Some(slot) = map.get(name) {
            return slot.clone();
        }
        map.entry(name.to_owned()).or_default().clone()
    }

    pub(super) fn get(&self, name: &str) -> Option<Arc<Slot>> {
        lock(&self.map).get(name).cloned()
    }

    pub(super) fn remove(&self, name: &str) -> Option<Arc<Slot>> {
        lock(&self.map).remove(name)
    }

    pub(super) fn drain(&self) -> Vec<Arc<Slot>> {
        lock(&self.map).drain().map(|(_, slot)| slot).collect()
    }
}

/// One cattackle's session, or the opening under way.
#[derive(Default)]
pub(super) struct Slot {
    pub(super) state: Mutex<SlotState>,
    pub(super) openings: AtomicU64,
}

#[derive(Default)]
pub(super) enum SlotState {
    #[default]
    Empty,
    Ready(Arc<Session>),
    Opening {
        id: u64,
        fingerprint: u64,
        /// Weak: when every waiter has given up, the opening is dropped (and its child killed).
        shared: WeakShared<Opening>,
    },
}

impl Slot {
    /// The ready session, if any.
    pub(super) fn current(&self) -> Option<Arc<Session>> {
        match &*lock(&self.state) {
            SlotState::Ready(session) => Some(session.clone()),
            _ => None,
        }
    }

    /// Takes the ready session out, if it is `session` (any, when `None`).
    pub(super) fn take_if(&self, session: Option<&Arc<Session>>) -> Option<Arc<Session>> {
        let mut state = lock(&self.state);
        let SlotState::Ready(current) = &*state else {
            return None;
        };
        if session.is_some_and(|s| !Arc::ptr_eq(s, current)) {
            return None;
        }
        let current = current.clone();
        *state = SlotState::Empty;
        Some(current)
    }
}
