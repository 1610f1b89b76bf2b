//! Discovering scenario files ([`Suite`]) and expanding them into named trials ([`Trial`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::snapshot::{self, SnapshotCheck, SnapshotMode};
use crate::harness::{Failure, Report, RunOptions, run};
use crate::scenario::{ScenarioError, ScenarioFile, TrialTarget, collect_files, load_file};

/// Why no trial can be found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoverError {
    /// A path cannot be read.
    #[error("cannot read {paths}: {source}")]
    Io {
        /// The paths given.
        paths: String,
        /// Why.
        source: std::io::Error,
    },
    /// No scenario file under the paths.
    #[error("no scenario files (*.yaml) under {paths}")]
    Empty {
        /// The paths given.
        paths: String,
    },
}

/// The scenario files under some paths: those that load, and those that do not.
#[derive(Debug)]
pub struct Suite {
    /// What trial names are relative to: the one directory given, else the current one.
    pub root: PathBuf,
    /// The directories given, where snapshots are looked for.
    pub dirs: Vec<PathBuf>,
    /// The files that load, in path order.
    pub files: Vec<Arc<ScenarioFile>>,
    /// The files that do not, with why.
    pub invalid: Vec<(PathBuf, ScenarioError)>,
}

/// One scenario against one target.
#[derive(Clone, Debug)]
pub struct Trial {
    /// The scenario.
    pub file: Arc<ScenarioFile>,
    /// The server it runs against.
    pub target: TrialTarget,
}

/// A trial's report, its snapshot compared (or written).
#[derive(Debug)]
pub struct TrialResult {
    /// What it did; a snapshot that differs is one of its failures.
    pub report: Report,
    /// The scenario file, for the line that reproduces it.
    pub path: PathBuf,
    /// What became of its snapshot.
    pub snapshot: SnapshotCheck,
    /// Where its snapshot (the transcript) lives.
    pub snapshot_path: PathBuf,
}

impl Suite {
    /// Loads every scenario file under `paths` (files as given, directories recursively,
    /// `invalid/` folders skipped). A file that does not load is kept in [`Suite::invalid`].
    pub fn load(paths: &[PathBuf]) -> Result<Self, DiscoverError> {
        Self::load_under(paths, &common_root(paths))
    }

    /// [`Suite::load`], with trial names relative to `root`.
    pub fn load_under(paths: &[PathBuf], root: &Path) -> Result<Self, DiscoverError> {
        let shown = show_paths(paths);
        let found = collect_files(paths).map_err(|source| DiscoverError::Io {
            paths: shown.clone(),
            source,
        })?;
        if found.is_empty() {
            return Err(DiscoverError::Empty { paths: shown });
        }
        let mut suite = Self {
            root: root.to_path_buf(),
            dirs: paths.iter().filter(|p| p.is_dir()).cloned().collect(),
            files: Vec::new(),
            invalid: Vec::new(),
        };
        for path in found {
            match load_file(&path, root) {
                Ok(file) => suite.files.push(Arc::new(file)),
                Err(e) => suite.invalid.push((path, e)),
            }
        }
        Ok(suite)
    }

    /// Every trial: each file once per target, in file order.
    pub fn trials(&self) -> Vec<Trial> {
        self.files
            .iter()
            .flat_map(|file| {
                file.targets().into_iter().map(|target| Trial {
                    file: file.clone(),
                    target,
                })
            })
            .collect()
    }
}

impl Trial {
    /// `<path under the root>@<target>`: `retry/timeout-then-success@stdio`.
    pub fn name(&self) -> String {
        self.file.trial_name(self.target)
    }

    /// Where its snapshot lives: `snapshots/<file stem>@<target>.snap` beside the scenario.
    pub fn snapshot_path(&self) -> PathBuf {
        snapshot::path(&self.file, self.target)
    }

    /// Runs it (see [`crate::harness::run`]).
    pub fn run(&self, options: &RunOptions) -> Report {
        run(&self.file, self.target, options)
    }

    /// Runs it, then compares its transcript with its snapshot, or writes it (`mode`). A
    /// snapshot that differs, or cannot be written, is a failure of the trial.
    pub fn run_and_check(&self, options: &RunOptions, mode: SnapshotMode) -> TrialResult {
        let mut report = self.run(options);
        let check = if report.passed() && !report.transcript.is_empty() {
            snapshot::check(&self.snapshot_path(), &report.transcript, mode)
        } else {
            SnapshotCheck::NotChecked
        };
        if let Some(message) = check.failure() {
            report.failures.push(Failure {
                at: "snapshot".to_owned(),
                message,
            });
        }
        TrialResult {
            report,
            path: self.file.path.clone(),
            snapshot: check,
            snapshot_path: self.snapshot_path(),
        }
    }
}

/// The paths, as one line.
fn show_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The directory trial names are relative to: the one directory given, else the current one.
fn common_root(paths: &[PathBuf]) -> PathBuf {
    match paths {
        [one] if one.is_dir() => one.clone(),
        [one] => one.parent().map(PathBuf::from).unwrap_or_default(),
        _ => PathBuf::new(),
    }
}
