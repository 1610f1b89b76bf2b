//! Real processes: the echo cattackle binary, and whether a pid still runs.

use std::path::PathBuf;
use std::sync::OnceLock;

/// Builds `echo-cattackle` (once per test binary) and returns its path.
pub fn echo_binary() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let mut build = escargot::CargoBuild::new()
            .package("echo-cattackle")
            .bin("echo-cattackle")
            .current_release();
        // Cargo gives a test process the variables of the package under test. A nested build
        // that inherits them sees build-script inputs change (ring reads `CARGO_PKG_*`), rebuilds
        // half the graph, and the next `cargo test` rebuilds it back: 25 s a time.
        for (key, _) in std::env::vars() {
            let of_the_package = [
                "CARGO_PKG_",
                "CARGO_MANIFEST_",
                "CARGO_CRATE_",
                "CARGO_BIN_",
            ]
            .iter()
            .any(|p| key.starts_with(p))
                || [
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                ]
                .contains(&key.as_str());
            if of_the_package {
                build = build.env_remove(key);
            }
        }
        build
            .run()
            .expect("cannot build echo-cattackle")
            .path()
            .to_owned()
    })
    .clone()
}

/// Whether `pid` is a running (not zombie) process.
pub fn is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().next());
            !matches!(state, Some("Z") | Some("X") | None)
        }
        Err(_) => false,
    }
}

/// Waits (real time, bounded) until `pid` is gone.
pub async fn gone_within(pid: u32, limit: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if !is_running(pid) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    !is_running(pid)
}

/// The pids written in `file`, one a line (by a launcher's `echo $! >> file`); none if it is
/// not there yet.
pub fn pids_in(file: &std::path::Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}
