//! The snapshot of a trial: its steps and outcomes, and everything on the wire.
//!
//! On the virtual clock a run is deterministic, so the snapshot is the whole timeline with times.
//! On the real clock, timing and the interleaving of client and server differ from run to run:
//! the snapshot keeps what does not (each connection's messages in order, outcomes without
//! error details), so it is stable in CI.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::outcome::Outcome;
use crate::journal::{Entry, Journal};
use crate::scenario::model::Clock;
use crate::scenario::{Dur, ScenarioFile, TrialTarget};

/// What one step did.
#[derive(Clone, Debug)]
pub(crate) struct StepRecord {
    pub(crate) at: String,
    pub(crate) action: String,
    pub(crate) outcome: Option<Outcome>,
    pub(crate) attempts: Vec<Duration>,
}

#[derive(Serialize)]
struct Snapshot<'a> {
    scenario: &'a str,
    trial: String,
    clock: &'static str,
    seed: u64,
    steps: Vec<StepView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    timeline: Vec<Entry>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    connections: BTreeMap<String, Vec<Entry>>,
}

#[derive(Serialize)]
struct StepView {
    at: String,
    action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attempts: Option<Attempts>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Attempts {
    At(Vec<Dur>),
    Count(usize),
}

/// Sort key: `steps[10]` after `steps[2]`.
fn natural(at: &str) -> Vec<(String, u64)> {
    let mut key = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for c in at.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                key.push((std::mem::take(&mut text), digits.parse().unwrap_or(0)));
                digits.clear();
            }
            text.push(c);
        }
    }
    key.push((text, digits.parse().unwrap_or(0)));
    key
}

/// The snapshot text of a trial.
pub(crate) fn render(
    file: &ScenarioFile,
    target: TrialTarget,
    clock: Clock,
    seed: u64,
    records: &[StepRecord],
    journal: &Journal,
) -> String {
    let virtual_clock = clock == Clock::Virtual;
    let mut records: Vec<&StepRecord> = records.iter().collect();
    records.sort_by_key(|r| natural(&r.at));
    let steps = records
        .into_iter()
        .map(|r| StepView {
            at: r.at.clone(),
            action: r.action.clone(),
            outcome: r.outcome.as_ref().map(|o| {
                if virtual_clock {
                    o.to_string()
                } else {
                    o.stable()
                }
            }),
            attempts: r.outcome.as_ref().map(|_| {
                if virtual_clock {
                    Attempts::At(r.attempts.iter().map(|d| Dur(*d)).collect())
                } else {
                    Attempts::Count(r.attempts.len())
                }
            }),
        })
        .collect();
    let entries = journal.entries();
    let mut snapshot = Snapshot {
        scenario: &file.scenario.name,
        trial: file.snapshot_name(target),
        clock: if virtual_clock { "virtual" } else { "real" },
        seed,
        steps,
        timeline: Vec::new(),
        connections: BTreeMap::new(),
    };
    if virtual_clock {
        snapshot.timeline = entries;
    } else {
        for entry in entries {
            if let Some(conn) = entry.conn {
                snapshot
                    .connections
                    .entry(format!("c{conn}"))
                    .or_default()
                    .push(Entry {
                        conn: None,
                        ..entry
                    });
            }
        }
    }
    let text = serde_yaml::to_string(&snapshot).unwrap_or_else(|e| format!("error: {e}\n"));
    journal.redactor().apply(&text)
}
