//! Which fault fires on what: the per-fault counters and the seeded generator, kept in one
//! place for the scripted mock and for the relay in front of a real server.

use super::faults::{Draws, position_fires};
use crate::journal::Received;
use crate::scenario::model::Fault;

/// The counters behind `nth`/`first`/`every` and the seeded draws behind `probability` and
/// jitter, drawn in a fixed order so that a seed replays a run exactly.
pub(crate) struct Book {
    /// Requests each fault has targeted so far.
    pub(crate) counts: Vec<u32>,
    /// The seeded generator.
    pub(crate) rng: fastrand::Rng,
    /// Connections opened so far.
    pub(crate) connections: u32,
}

/// A fault that fired on a request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fired {
    /// Its index in `faults`.
    pub(crate) index: usize,
    /// How many requests it had targeted, this one included.
    pub(crate) count: u32,
    /// Its seeded draws.
    pub(crate) draws: Draws,
}

impl Book {
    /// Counters at zero for `faults` faults, and a generator seeded with `seed`.
    pub(crate) fn new(faults: usize, seed: u64) -> Self {
        Self {
            counts: vec![0; faults],
            rng: fastrand::Rng::with_seed(seed),
            connections: 0,
        }
    }

    /// Counts a new connection; returns its number and the connection fault that fires on it.
    pub(crate) fn connect(&mut self, faults: &[Fault]) -> (u32, Option<usize>) {
        self.connections += 1;
        let count = self.connections;
        let fired = faults.iter().enumerate().find_map(|(i, fault)| {
            (fault.action.on_connect() && position_fires(&fault.matcher, count, &mut self.rng))
                .then_some(i)
        });
        (count, fired)
    }

    /// Counts `request` for every fault that targets it, and returns the first that fires.
    pub(crate) fn request(&mut self, faults: &[Fault], request: &Received) -> Option<Fired> {
        faults.iter().enumerate().find_map(|(index, fault)| {
            if fault.action.on_connect() || !fault.matcher.targets(&fault.action, request) {
                return None;
            }
            self.counts[index] += 1;
            let count = self.counts[index];
            position_fires(&fault.matcher, count, &mut self.rng).then(|| Fired {
                index,
                count,
                draws: Draws::for_action(&fault.action, &mut self.rng),
            })
        })
    }
}

/// How the transcript names the request a fault fired on: `tools/call echo`.
pub(crate) fn target_of(request: &Received) -> String {
    match &request.tool {
        Some(t) => format!("{} {t}", request.method),
        None => request.method.clone(),
    }
}
