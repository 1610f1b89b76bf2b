//! Snapshot files, in insta's format, for runs outside `cargo test` (`cattackle test`).
//!
//! `cargo test --test scenarios` asserts with insta itself; the CLI reads the same files, so both
//! agree on what is accepted.

use std::path::{Path, PathBuf};

use crate::scenario::{ScenarioFile, TrialTarget};

/// Where a trial's snapshot lives: `snapshots/<file stem>@<target>.snap` beside the scenario.
pub fn path(file: &ScenarioFile, target: TrialTarget) -> PathBuf {
    let dir = file
        .path
        .parent()
        .unwrap_or(Path::new("."))
        .join("snapshots");
    dir.join(format!("{}.snap", name(file, target)))
}

/// The snapshot's name (insta's `name` argument): `<file stem>@<target>`.
pub fn name(file: &ScenarioFile, target: TrialTarget) -> String {
    let stem = file
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{stem}@{}", target.as_str())
}

/// The content of an insta snapshot file (after its `---` header).
pub fn read(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let body = text.strip_prefix("---\n")?;
    let end = body.find("\n---\n")?;
    Some(body[end + 5..].to_owned())
}

/// Writes `content` as an insta snapshot file.
pub fn write(path: &Path, content: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut text = String::from("---\nsource: tests/scenarios.rs\n---\n");
    text.push_str(content.trim_end());
    text.push('\n');
    std::fs::write(path, text)
}

/// Whether two snapshot contents are the same (insta ignores surrounding whitespace).
pub fn same(a: &str, b: &str) -> bool {
    a.trim() == b.trim()
}
