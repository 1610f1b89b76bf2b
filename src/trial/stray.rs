//! Snapshot files no trial uses (a renamed or deleted scenario), and the `invalid/` files whose
//! diagnostics are pinned.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::Suite;

/// A file under an `invalid/` folder: it must fail to load, and its diagnostic is pinned.
#[derive(Clone, Debug)]
pub struct InvalidCase {
    /// The scenario file.
    pub path: PathBuf,
    /// `invalid/snapshots/<stem>.snap`.
    pub snapshot: PathBuf,
    /// `invalid/<stem>`.
    pub name: String,
}

/// The files of every `invalid/` folder under `dirs`.
pub fn invalid_cases(dirs: &[PathBuf]) -> std::io::Result<Vec<InvalidCase>> {
    let mut cases = Vec::new();
    for dir in dirs {
        let mut folders = Vec::new();
        find_dirs(dir, "invalid", &mut folders)?;
        for folder in folders {
            let files = crate::scenario::collect_files(std::slice::from_ref(&folder))?;
            for path in files {
                let stem = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                cases.push(InvalidCase {
                    snapshot: folder.join("snapshots").join(format!("{stem}.snap")),
                    name: format!("invalid/{stem}"),
                    path,
                });
            }
        }
    }
    Ok(cases)
}

/// Every snapshot a run of `suite` (all its trials, and its `invalid/` files) uses.
pub fn expected_snapshots(suite: &Suite) -> std::io::Result<BTreeSet<PathBuf>> {
    let mut expected: BTreeSet<PathBuf> =
        suite.trials().iter().map(|t| t.snapshot_path()).collect();
    expected.extend(invalid_cases(&suite.dirs)?.into_iter().map(|c| c.snapshot));
    Ok(expected)
}

/// Snapshot files (`*.snap`) under `dirs` that are not in `expected`, sorted.
pub fn stray_snapshots(
    dirs: &[PathBuf],
    expected: &BTreeSet<PathBuf>,
) -> std::io::Result<Vec<PathBuf>> {
    let mut stray = Vec::new();
    let mut stack = dirs.to_vec();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "snap") && !expected.contains(&path) {
                stray.push(path);
            }
        }
    }
    stray.sort();
    Ok(stray)
}

/// Every directory named `name` under `dir` (itself included).
fn find_dirs(dir: &Path, name: &str, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if dir.file_name().is_some_and(|n| n == name) {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries.into_iter().filter(|p| p.is_dir()) {
        if path.file_name().is_some_and(|n| n != "snapshots") {
            find_dirs(&path, name, out)?;
        }
    }
    Ok(())
}
