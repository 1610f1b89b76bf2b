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
    let args = cli::Cli::parse();
    cli::logging::init(args.verbose, args.runs_scenarios());
    let owns_signals = args.owns_signals();
    if owns_signals {
        cli::signals::install();
    }
    let code = cli::run(args);
    if owns_signals {
        cli::signals::sweep();
    }
    ExitCode::from(code)
}
