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
    // rmcp logs message contents (at trace) and session ids (at error): payloads and session
    // ids stay out of logs unless RUST_LOG names `rmcp` itself; `RUST_LOG=trace` alone does
    // not. Our own logs say what failed, and log payloads only with `enable_logging`.
    let directives = match std::env::var("RUST_LOG") {
        Ok(env) if env.contains("rmcp") => env,
        Ok(env) if !env.trim().is_empty() => format!("{env},rmcp=off"),
        _ => format!("{level},rmcp=off"),
    };
    let filter = EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| EnvFilter::new(format!("{level},rmcp=off")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
