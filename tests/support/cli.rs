//! Runs the `cattackle` binary from the repository root, as a user would, with the runner's
//! `RUST_LOG` and `CI` removed so that no test depends on the environment it runs in.

use std::process::{Command, Output};

use super::processes::echo_binary;

/// `cattackle ARGS…`, its output collected.
pub fn cattackle(args: &[&str]) -> Output {
    // The CLI finds `echo-cattackle` beside itself (both live in the same target directory).
    echo_binary();
    Command::new(env!("CARGO_BIN_EXE_cattackle"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .env_remove("CI")
        .output()
        .expect("run cattackle")
}

/// Bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
