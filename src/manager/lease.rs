//! The session of each cattackle: cached for reuse, opened once for every concurrent caller,
//! retired after a failure and closed when its last call ends.
//!
//! - **One opening.** Callers that find no session share one opening (a [`Shared`] future). When
//!   it fails or times out, every waiter's attempt fails at that moment with that error. Nobody
//!   queues behind somebody else's opening, so `connect_timeout` bounds each caller's attempt.
//! - **Retire, never cut.** After a failure the session is retired: new calls, and the failing
//!   call's retry, go to a new session, while calls already in flight on the retired one finish
//!   there (or end by their own timeout). It closes when its last call ends. Nothing is sent
//!   twice because a sibling failed.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::FutureExt;
use futures::future::Shared;

use super::core::Core;
use super::session::{Retired, Retirement, Session};
use super::slot::{Opening, Slot, SlotState};
use super::{CattackleError, ManagerEvent};
use crate::config::{CattackleConfig, HealthCheck};
use crate::util::lock;

/// A call's use of a session: while it lives, a retired session stays open for it.
pub(super) struct Lease {
    pub(super) session: Arc<Session>,
    core: Arc<Core>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(retirement) = self.session.release() {
            self.core.close(self.session.clone(), retirement);
        }
    }
}

enum Next {
    Use(Arc<Session>),
    Stale(Arc<Session>, &'static str),
    Join(Shared<Opening>),
}

impl Core {
    /// A session for one attempt: the cached one if it is for this transport and healthy, else
    /// the opening under way, else a new opening. Health checks do not count as attempts.
    pub(super) async fn lease(
        self: &Arc<Self>,
        config: &CattackleConfig,
    ) -> Result<Lease, CattackleError> {
        let fingerprint = config.mcp.transport.fingerprint();
        let grace = config.mcp.shutdown_grace;
        let slot = self.slots.get_or_create(&config.name);
        let mut probed = false;
        let mut fresh = None;
        loop {
            let next = {
                let mut state = lock(&slot.state);
                match &*state {
                    SlotState::Ready(s) if s.fingerprint == fingerprint && s.is_alive() => {
                        s.acquire();
                        Next::Use(s.clone())
                    }
                    SlotState::Ready(s) => {
                        let why = if s.fingerprint == fingerprint {
                            "no longer alive"
                        } else {
                            "transport changed"
                        };
                        let stale = s.clone();
                        *state = SlotState::Empty;
                        Next::Stale(stale, why)
                    }
                    SlotState::Opening {
                        fingerprint: f,
                        shared,
                        ..
                    } if *f == fingerprint
                        && let Some(opening) = shared.upgrade() =>
                    {
                        Next::Join(opening)
                    }
                    _ => Next::Join(self.start_opening(&slot, &mut state, config, fingerprint)),
                }
            };
            match next {
                Next::Use(session) => {
                    let lease = Lease {
                        session,
                        core: self.clone(),
                    };
                    let check = config.mcp.health_check;
                    if probed || check == HealthCheck::Liveness || fresh == Some(lease.session.id) {
                        return Ok(lease);
                    }
                    if lease.session.is_healthy(check, config.mcp.timeout).await {
                        return Ok(lease);
                    }
                    tracing::info!(cattackle = %config.name, session = lease.session.id, "health check failed: reopening");
                    self.retire(
                        Some(&slot),
                        &lease.session,
                        Retirement::new("health check failed", grace),
                        1,
                    );
                    probed = true;
                }
                Next::Stale(session, why) => {
                    tracing::info!(cattackle = %config.name, session = session.id, "session {why}: reopening");
                    self.retire(Some(&slot), &session, Retirement::new(why, grace), 0);
                }
                Next::Join(opening) => {
                    // Installed in the slot by the opening itself: take it from there, so that
                    // its use is counted under the slot's lock.
                    fresh = Some(opening.await?.id);
                }
            }
        }
    }

    /// Starts an opening and records it in the slot; the opening installs its session there
    /// when it succeeds (or closes it, when a newer opening replaced it meanwhile).
    fn start_opening(
        self: &Arc<Self>,
        slot: &Arc<Slot>,
        state: &mut SlotState,
        config: &CattackleConfig,
        fingerprint: u64,
    ) -> Shared<Opening> {
        let id = slot.openings.fetch_add(1, Ordering::Relaxed) + 1;
        let core = self.clone();
        let owner = slot.clone();
        let config = config.clone();
        let opening: Opening = Box::pin(async move {
            let result = core.open_session(&config, fingerprint).await;
            let mut state = lock(&owner.state);
            let current = matches!(&*state, SlotState::Opening { id: i, .. } if *i == id);
            match &result {
                Ok(session) if current => {
                    *state = SlotState::Ready(session.clone());
                    drop(state);
                    core.watch(&config, &owner, session);
                }
                Err(_) if current => *state = SlotState::Empty,
                Ok(session) => {
                    drop(state);
                    let retirement = Retirement::new("superseded", config.mcp.shutdown_grace);
                    core.retire(Some(&owner), session, retirement, 0);
                }
                Err(_) => {}
            }
            result
        });
        let shared = opening.shared();
        if let Some(weak) = shared.downgrade() {
            *state = SlotState::Opening {
                id,
                fingerprint,
                shared: weak,
            };
        }
        shared
    }

    /// Opens a session (see [`super::open::open`]) and reports it.
    async fn open_session(
        &self,
        config: &CattackleConfig,
        fingerprint: u64,
    ) -> Result<Arc<Session>, CattackleError> {
        let started = super::open::open(&*self.connector, config, &self.closing).await?;
        let id = self.next_session.fetch_add(1, Ordering::Relaxed) + 1;
        let session = Session::new(
            id,
            config.name.clone(),
            fingerprint,
            started.client,
            started.resource,
            started.dropped,
        )
        .await;
        self.report(|| ManagerEvent::SessionOpened {
            cattackle: config.name.clone(),
            session: id,
            protocol: session.protocol_version(),
        });
        tracing::debug!(
            cattackle = %config.name,
            session = id,
            pid = ?session.pid(),
            protocol = ?session.protocol_version(),
            "session opened"
        );
        Ok(Arc::new(session))
    }

    /// Retires `session` (taking it out of its slot, if it has one and is still there): it
    /// closes when its last call ends. `own` is how many of its uses the caller holds.
    pub(super) fn retire(
        &self,
        slot: Option<&Slot>,
        session: &Arc<Session>,
        retirement: Retirement,
        own: usize,
    ) {
        if let Some(slot) = slot {
            slot.take_if(Some(session));
        }
        let reason = retirement.reason;
        match session.retire(retirement, own) {
            Retired::Already => {}
            Retired::CloseNow(retirement) => self.close(session.clone(), retirement),
            Retired::Draining { in_flight } if in_flight > 0 => {
                self.report(|| ManagerEvent::SessionRetired {
                    cattackle: session.cattackle.clone(),
                    session: session.id,
                    reason,
                    in_flight,
                });
            }
            Retired::Draining { .. } => {}
        }
    }

    /// Retires the session of `lease` after a failure of the call that holds it.
    pub(super) fn retire_leased(&self, lease: &Lease, retirement: Retirement) {
        let slot = self.slots.get(&lease.session.cattackle);
        self.retire(slot.as_deref(), &lease.session, retirement, 1);
    }

    /// Closes a session in the background: nobody waits for an old process to exit.
    pub(super) fn close(&self, session: Arc<Session>, retirement: Retirement) {
        let reason = if retirement.drained {
            "drained: its last call ended"
        } else {
            retirement.reason
        };
        let dropped = session.server_requests_dropped();
        if dropped > 0 {
            self.report(|| ManagerEvent::ServerRequestsDropped {
                cattackle: session.cattackle.clone(),
                session: session.id,
                dropped,
            });
        }
        self.report(|| ManagerEvent::SessionClosed {
            cattackle: session.cattackle.clone(),
            session: session.id,
            reason,
        });
        self.closing.spawn(async move {
            session.shutdown(retirement.grace, retirement.busy).await;
        });
    }

    /// The cattackle's ready session, if any.
    pub(super) fn current(&self, name: &str) -> Option<Arc<Session>> {
        self.slots.get(name)?.current()
    }

    /// Retires the session of `slot` with `reason` and waits until it has closed: at once when
    /// it is idle, else when its calls in flight have ended.
    async fn close_slot(&self, slot: &Slot, reason: &'static str, grace: std::time::Duration) {
        let Some(session) = slot.take_if(None) else {
            return;
        };
        tracing::debug!(cattackle = %session.cattackle, session = session.id, "closing session");
        self.retire(Some(slot), &session, Retirement::new(reason, grace), 0);
        session.ended().await;
    }

    /// See [`super::McpClientManager::close_session`].
    pub(super) async fn close_named(&self, name: &str, grace: std::time::Duration) {
        if let Some(slot) = self.slots.remove(name) {
            self.close_slot(&slot, "closed on request", grace).await;
        }
    }

    /// See [`super::McpClientManager::close_all_sessions`].
    pub(super) async fn close_every(&self, grace: std::time::Duration) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let slots = self.slots.drain();
        let closes = slots
            .iter()
            .map(|slot| self.close_slot(slot, "closing all sessions", grace));
        futures::future::join_all(closes).await;
        self.closing.close();
        self.closing.wait().await;
        self.closing.reopen();
    }
}
