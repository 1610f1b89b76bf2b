//! A circuit breaker per cattackle: Closed → Open → HalfOpen, after resilience4j and Polly.
//!
//! - Each attempt is recorded: a [health failure](super::CattackleError::is_health_failure)
//!   counts as a failure; any answer (even an error answer) as a success. Calls rejected
//!   before an attempt (unknown command, payload too large) are not recorded.
//! - It opens after `consecutive_failures` failures in a row, or when at least `failure_rate`
//!   of the last `window` attempts failed, once `min_calls` are in the window.
//! - Open rejects every attempt at once, with no I/O. After the break (`base`, times `factor`
//!   for each opening in a row, at most `max`) it is HalfOpen: exactly one attempt (the probe)
//!   goes through, bounded by its own timeout. If the probe has not ended one break later,
//!   another probe is let through. A probe that succeeds closes the breaker and resets the
//!   break; one that fails opens it again, for longer.
//! - Results of attempts that started in another state (before it opened, or a superseded
//!   probe) change nothing.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::BreakerConfig;

/// Where a breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are rejected at once.
    Open,
    /// One probe call goes through; the rest are rejected.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open`, `half_open`: as scenarios and metrics name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

/// What an admitted attempt is, to be handed back with its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ticket {
    /// An attempt while closed.
    Normal { epoch: u64 },
    /// The probe of a half-open breaker.
    Probe { epoch: u64 },
}

/// A change of state, for the manager's events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Transition {
    pub(super) from: BreakerState,
    pub(super) to: BreakerState,
    /// Open: how long until the next probe.
    pub(super) retry_in: Option<Duration>,
    pub(super) reason: &'static str,
}

#[derive(Debug)]
enum State {
    Closed {
        consecutive: u32,
        /// The latest attempts, `true` for a failure.
        window: VecDeque<bool>,
    },
    Open {
        until: Instant,
    },
    HalfOpen {
        /// When the probe started.
        probe_started: Instant,
    },
}

/// One cattackle's breaker.
#[derive(Debug)]
pub(super) struct Breaker {
    config: BreakerConfig,
    state: State,
    /// Openings in a row (a failed probe opens it again): the break grows with them.
    openings: u32,
    /// Bumped on every change of state, so that late results are recognised.
    epoch: u64,
}

impl Breaker {
    pub(super) fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: State::Closed {
                consecutive: 0,
                window: VecDeque::new(),
            },
            openings: 0,
            epoch: 0,
        }
    }

    /// The configuration it was made with (a reload with another one makes a new breaker).
    pub(super) fn config(&self) -> &BreakerConfig {
        &self.config
    }

    pub(super) fn state(&self) -> BreakerState {
        match self.state {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// The break after `openings` openings in a row: `base × factor^(openings − 1)`, at most `max`.
    fn break_for(&self, openings: u32) -> Duration {
        let exponent = i32::try_from(openings.saturating_sub(1)).unwrap_or(i32::MAX);
        let secs = self.config.base.as_secs_f64() * self.config.factor.powi(exponent);
        Duration::try_from_secs_f64(secs)
            .unwrap_or(Duration::MAX)
            .min(self.config.max)
    }

    /// Whether an attempt at `at` would be rejected, and how long it would have to wait then
    /// (without changing anything).
    pub(super) fn blocked_at(&self, at: Instant) -> Option<Duration> {
        match self.state {
            State::Closed { .. } => None,
            State::Open { until } => (at < until).then(|| until - at),
            State::HalfOpen { probe_started } => {
                let again =
                    crate::util::saturating_add(probe_started, self.break_for(self.openings));
                (at < again).then(|| again - at)
            }
        }
    }

    /// Lets an attempt through, or says how long until one may go.
    pub(super) fn admit(&mut self, now: Instant) -> Result<(Ticket, Option<Transition>), Duration> {
        match self.state {
            State::Closed { .. } => Ok((Ticket::Normal { epoch: self.epoch }, None)),
            State::Open { until } if now < until => Err(until - now),
            State::Open { .. } => {
                let transition = self.enter(
                    State::HalfOpen { probe_started: now },
                    None,
                    "break over: one probe goes through",
                );
                Ok((Ticket::Probe { epoch: self.epoch }, Some(transition)))
            }
            State::HalfOpen { probe_started } => {
                let again =
                    crate::util::saturating_add(probe_started, self.break_for(self.openings));
                if now < again {
                    return Err(again - now);
                }
                // The probe has not ended in a whole break: let another one through.
                self.state = State::HalfOpen { probe_started: now };
                self.epoch += 1;
                Ok((Ticket::Probe { epoch: self.epoch }, None))
            }
        }
    }

    /// Records the result of an admitted attempt: `failed` when it was a health failure.
    pub(super) fn record(
        &mut self,
        ticket: Ticket,
        failed: bool,
        now: Instant,
    ) -> Option<Transition> {
        match (ticket, &mut self.state) {
            (
                Ticket::Normal { epoch },
                State::Closed {
                    consecutive,
                    window,
                },
            ) if epoch == self.epoch => {
                *consecutive = if failed { *consecutive + 1 } else { 0 };
                window.push_back(failed);
                while window.len() > self.config.window as usize {
                    window.pop_front();
                }
                let failures = window.iter().filter(|f| **f).count();
                let by_count = *consecutive >= self.config.consecutive_failures;
                let by_rate = window.len() >= self.config.min_calls as usize
                    && failures as f64 >= self.config.failure_rate * window.len() as f64;
                if !failed || !(by_count || by_rate) {
                    return None;
                }
                let reason = if by_count {
                    "consecutive failures"
                } else {
                    "failure rate"
                };
                Some(self.open(now, reason))
            }
            (Ticket::Probe { epoch }, State::HalfOpen { .. }) if epoch == self.epoch => {
                if failed {
                    Some(self.open(now, "probe failed"))
                } else {
                    self.openings = 0;
                    Some(self.enter(
                        State::Closed {
                            consecutive: 0,
                            window: VecDeque::new(),
                        },
                        None,
                        "probe succeeded",
                    ))
                }
            }
            _ => None,
        }
    }

    fn open(&mut self, now: Instant, reason: &'static str) -> Transition {
        self.openings = self.openings.saturating_add(1);
        let pause = self.break_for(self.openings);
        let until = crate::util::saturating_add(now, pause);
        self.enter(State::Open { until }, Some(pause), reason)
    }

    fn enter(
        &mut self,
        state: State,
        retry_in: Option<Duration>,
        reason: &'static str,
    ) -> Transition {
        let from = self.state();
        self.state = state;
        self.epoch += 1;
        Transition {
            from,
            to: self.state(),
            retry_in,
            reason,
        }
    }
}

#[cfg(test)]
#[path = "breaker_tests.rs"]
mod tests;
