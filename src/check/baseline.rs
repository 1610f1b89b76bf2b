//! `--baseline FILE`: failures a team has accepted for now. YAML, check id → reason (for every
//! suite), or check id → { suite name → reason }:
//!
//! ```yaml
//! lifecycle.malformed-message: "the SDK closes on garbage; upstream issue 12"
//! stdio.exits-on-eof:
//!   echo: "fixed in 2.0"
//! ```
//!
//! A listed failure does not fail the run. A listed check that ran and did not fail is stale,
//! and fails the run ("remove it"), as the official conformance suite does.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::model::{StaleEntry, Status, SuiteReport};

/// A reason for every suite, or per suite.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Entry {
    /// For every suite.
    Everywhere(String),
    /// Suite name → reason.
    PerSuite(BTreeMap<String, String>),
}

/// A loaded baseline.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Baseline(pub BTreeMap<String, Entry>);

/// Why a baseline could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// Not readable.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not the format.
    #[error(
        "{path}:{line}:{column}: {message} (expected `check.id: reason` or `check.id: {{ suite: reason }}`)"
    )]
    Parse {
        /// The file.
        path: String,
        /// 1-based.
        line: usize,
        /// 1-based.
        column: usize,
        /// serde's message.
        message: String,
    },
    /// An id that is no check.
    #[error("{path}: `{id}` is not a check id{}", nearest.as_ref().map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default())]
    UnknownId {
        /// The file.
        path: String,
        /// The id.
        id: String,
        /// The nearest id.
        nearest: Option<String>,
    },
}

impl Baseline {
    /// Reads `path`; every id must be a check of `pack`.
    pub fn load(path: &Path, pack: &super::catalog::Pack) -> Result<Self, BaselineError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Io {
            path: shown.clone(),
            source,
        })?;
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let baseline: Self = serde_yaml::from_str(&text).map_err(|e| {
            let location = e.location();
            BaselineError::Parse {
                path: shown.clone(),
                line: location.as_ref().map_or(1, |l| l.line()),
                column: location.as_ref().map_or(1, |l| l.column()),
                message: e
                    .to_string()
                    .split(" at line ")
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            }
        })?;
        let ids = pack.ids();
        for id in baseline.0.keys() {
            if !ids.contains(&id.as_str()) {
                let nearest = ids
                    .iter()
                    .copied()
                    .min_by_key(|c| strsim::levenshtein(id, c))
                    .filter(|c| strsim::levenshtein(id, c) <= 4)
                    .map(str::to_owned);
                return Err(BaselineError::UnknownId {
                    path: shown,
                    id: id.clone(),
                    nearest,
                });
            }
        }
        Ok(baseline)
    }

    fn reason(&self, id: &str, suite: &str) -> Option<&str> {
        match self.0.get(id)? {
            Entry::Everywhere(reason) => Some(reason),
            Entry::PerSuite(map) => map.get(suite).map(String::as_str),
        }
    }

    /// Marks the failures of `suite` that the baseline lists.
    pub fn mark(&self, suite: &mut SuiteReport) {
        for result in &mut suite.results {
            if result.status == Status::Fail
                && let Some(reason) = self.reason(&result.id, &suite.name)
            {
                result.baselined = Some(reason.to_owned());
            }
        }
    }

    /// Marks the failures the baseline lists, and returns the entries that are stale.
    pub fn apply(&self, suites: &mut [SuiteReport]) -> Vec<StaleEntry> {
        for suite in suites.iter_mut() {
            self.mark(suite);
        }
        let mut stale = Vec::new();
        let ran = |suite: &SuiteReport, id: &str| {
            let of_id: Vec<_> = suite.results.iter().filter(|r| r.id == id).collect();
            let ran = of_id
                .iter()
                .any(|r| !matches!(r.status, Status::Skip | Status::Error));
            let failed = of_id.iter().any(|r| r.status == Status::Fail);
            (ran, failed)
        };
        for (id, entry) in &self.0 {
            match entry {
                Entry::Everywhere(reason) => {
                    let states: Vec<(bool, bool)> = suites.iter().map(|s| ran(s, id)).collect();
                    if states.iter().any(|(r, _)| *r) && !states.iter().any(|(_, f)| *f) {
                        stale.push(StaleEntry {
                            id: id.clone(),
                            suite: None,
                            reason: reason.clone(),
                        });
                    }
                }
                Entry::PerSuite(map) => {
                    for (suite_name, reason) in map {
                        let state = suites
                            .iter()
                            .find(|s| &s.name == suite_name)
                            .map(|s| ran(s, id));
                        if let Some((true, false)) = state {
                            stale.push(StaleEntry {
                                id: id.clone(),
                                suite: Some(suite_name.clone()),
                                reason: reason.clone(),
                            });
                        }
                    }
                }
            }
        }
        stale
    }

    /// A baseline of the current failures, per suite (for `--write-baseline`).
    pub fn of_failures(suites: &[SuiteReport]) -> Self {
        let mut map: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for suite in suites {
            for result in suite.results.iter().filter(|r| r.status == Status::Fail) {
                let reason = result
                    .baselined
                    .clone()
                    .unwrap_or_else(|| result.message.clone());
                map.entry(result.id.clone())
                    .or_default()
                    .entry(suite.name.clone())
                    .or_insert(reason);
            }
        }
        Self(
            map.into_iter()
                .map(|(id, per)| (id, Entry::PerSuite(per)))
                .collect(),
        )
    }
}
