//! `cattackle`: test, check, call and list cattackles.
#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line program prints"
)]

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Output piped into `head` ends quietly when the pipe closes, as other Unix tools do.
    // SAFETY: restoring a signal's default disposition at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = cli::Cli::parse();
    cli::logging::init(args.verbose, args.runs_scenarios());
    ExitCode::from(cli::run(args))
}
