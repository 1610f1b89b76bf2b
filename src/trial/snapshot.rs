//! Snapshot files, in insta's format: `cargo test --test scenarios` asserts with insta itself,
//! and `cattackle test` reads and writes the same files, so both agree on what is accepted.

use std::path::{Path, PathBuf};

use crate::scenario::{ScenarioFile, TrialTarget};

/// Compare with the stored snapshot, or write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotMode {
    /// A snapshot that differs fails the trial; a missing one is noted.
    Compare,
    /// Write (or overwrite) the snapshot.
    Write,
    /// Leave it alone: the run used another seed than the scenario's own, at which the
    /// snapshot was taken (`--seed`, `--seeds`), so only the expectations are checked.
    Skip,
}

/// What became of a trial's snapshot.
#[derive(Debug)]
pub enum SnapshotCheck {
    /// The trial failed, or has no transcript: nothing was compared.
    NotChecked,
    /// The transcript is the stored one.
    Matches,
    /// No snapshot is stored yet.
    Missing,
    /// Written.
    Written,
    /// The transcript differs; a unified diff (`-` stored, `+` now).
    Differs(String),
    /// The snapshot could not be written.
    WriteFailed(String),
}

impl SnapshotCheck {
    /// The trial's failure it makes, if it makes one.
    pub fn failure(&self) -> Option<String> {
        match self {
            Self::Differs(diff) => Some(format!(
                "{diff}\n  (accept with `cargo insta review` after `cargo test --test scenarios`, or `cattackle test --write-snapshots`)"
            )),
            Self::WriteFailed(why) => Some(why.clone()),
            _ => None,
        }
    }
}

/// Where a trial's snapshot lives: `snapshots/<file stem>@<target>.snap` beside the scenario.
pub fn path(file: &ScenarioFile, target: TrialTarget) -> PathBuf {
    file.path
        .parent()
        .unwrap_or(Path::new("."))
        .join("snapshots")
        .join(format!("{}.snap", file.snapshot_name(target)))
}

/// Compares `transcript` with the snapshot at `path`, or writes it.
pub fn check(path: &Path, transcript: &str, mode: SnapshotMode) -> SnapshotCheck {
    match mode {
        SnapshotMode::Skip => SnapshotCheck::NotChecked,
        SnapshotMode::Write => match write(path, transcript) {
            Ok(()) => SnapshotCheck::Written,
            Err(e) => SnapshotCheck::WriteFailed(format!("cannot write {}: {e}", path.display())),
        },
        SnapshotMode::Compare => match read(path) {
            None => SnapshotCheck::Missing,
            Some(stored) if same(&stored, transcript) => SnapshotCheck::Matches,
            Some(stored) => SnapshotCheck::Differs(diff(&stored, transcript, path)),
        },
    }
}

/// The content of an insta snapshot file (after its `---` header).
pub fn read(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let body = text.strip_prefix("---\n")?;
    let end = body.find("\n---\n")?;
    Some(body[end + 5..].to_owned())
}

/// Writes `content` as an insta snapshot file, naming `cattackle test` as its source.
pub fn write(path: &Path, content: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut text = String::from("---\nsource: cattackle test\n---\n");
    text.push_str(content.trim_end());
    text.push('\n');
    std::fs::write(path, text)
}

/// Whether two snapshot contents are the same (insta ignores surrounding whitespace).
pub fn same(a: &str, b: &str) -> bool {
    a.trim() == b.trim()
}

/// A unified diff of a stored snapshot and a transcript, two lines of context.
fn diff(stored: &str, actual: &str, path: &Path) -> String {
    let diff = similar::TextDiff::from_lines(stored.trim(), actual.trim());
    let mut out = format!(
        "the transcript differs from {} (- stored, + now):\n",
        path.display()
    );
    for hunk in diff.unified_diff().context_radius(2).iter_hunks() {
        out.push_str(&hunk.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_snapshots_read_back_and_compare() {
        let dir = std::env::temp_dir().join(format!("snapshot-{}", fastrand::u64(..)));
        let file = dir.join("snapshots").join("a@stdio.snap");
        assert!(matches!(
            check(&file, "x: 1\n", SnapshotMode::Compare),
            SnapshotCheck::Missing
        ));
        assert!(matches!(
            check(&file, "x: 1\n", SnapshotMode::Write),
            SnapshotCheck::Written
        ));
        assert!(
            std::fs::read_to_string(&file)
                .unwrap()
                .contains("source: cattackle test")
        );
        assert!(matches!(
            check(&file, "x: 1", SnapshotMode::Compare),
            SnapshotCheck::Matches
        ));
        let SnapshotCheck::Differs(diff) = check(&file, "x: 2\n", SnapshotMode::Compare) else {
            panic!("a different transcript differs")
        };
        assert!(diff.contains("-x: 1") && diff.contains("+x: 2"), "{diff}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
