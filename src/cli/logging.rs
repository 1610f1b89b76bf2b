//! `tracing` to stderr, at a level set by `-v` or `RUST_LOG`.

use tracing_subscriber::EnvFilter;

/// `quiet`: without `-v`, only errors (for `test`, whose transcripts already show every retry).
pub(crate) fn init(verbose: u8, quiet: bool) {
    let level = match verbose {
        0 if quiet => "error",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    // rmcp logs message contents at debug and session ids at error: payloads and session ids
    // stay out of logs unless RUST_LOG asks for them. Our own logs say what failed.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{level},rmcp=off")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
