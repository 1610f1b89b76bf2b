//! The command line: arguments, dispatch and exit codes.

mod call;
mod list;
pub(crate) mod logging;
mod mock_server;
mod schema;
mod test;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Everything worked.
pub(crate) const EXIT_OK: u8 = 0;
/// The call (or a check) failed: the cattackle could not be reached, timed out, or reported an
/// error.
pub(crate) const EXIT_FAILED: u8 = 1;
/// Bad usage or bad configuration: nothing was run.
pub(crate) const EXIT_USAGE: u8 = 2;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the call failed (unreachable, timed out, retries exhausted, or the cattackle reported an error)
  2  bad usage or invalid configuration (nothing was sent)";

/// Drive Catmandu cattackles (MCP servers) through the client manager.
#[derive(Parser, Debug)]
#[command(name = "cattackle", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// More logs on stderr (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Call one command of a cattackle and print its `data`.
    #[command(after_help = EXIT_CODES)]
    Call(call::CallArgs),
    /// List the cattackles of a cattackles directory, with their commands and transports.
    #[command(after_help = EXIT_CODES)]
    List {
        /// A directory whose immediate children hold `cattackle.toml` files.
        #[arg(default_value = "cattackles")]
        dir: PathBuf,
    },
    /// Run scenario files (YAML) through the client manager against mocks and real cattackles.
    #[command(after_help = TEST_EXIT_CODES)]
    Test(test::TestArgs),
    /// Print the JSON Schema of scenario files.
    Schema,
    /// Serve a scenario's mock on stdin/stdout (used by `stdio-process` scenarios).
    #[command(hide = true)]
    MockServer(mock_server::MockServerArgs),
}

const TEST_EXIT_CODES: &str = "\
Exit codes:
  0  every trial passed
  1  a trial failed (an expectation, or a snapshot that differs)
  2  bad usage or an invalid scenario file (nothing was run)";

impl Cli {
    /// Whether the command runs scenarios (whose manager warnings are expected, and recorded).
    pub(crate) fn runs_scenarios(&self) -> bool {
        matches!(self.command, Command::Test(_) | Command::MockServer(_))
    }
}

/// Runs the command; async commands on a current-thread runtime (`test` builds one per trial).
pub(crate) fn run(cli: Cli) -> u8 {
    let command = match cli.command {
        Command::Test(args) => return test::run_tests(args),
        Command::Schema => return schema::run(),
        Command::List { dir } => return list::run(&dir),
        other => other,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return EXIT_USAGE;
        }
    };
    runtime.block_on(async move {
        match command {
            Command::Call(args) => call::run(args).await,
            Command::MockServer(args) => mock_server::run(args).await,
            Command::List { .. } | Command::Test(_) | Command::Schema => {
                unreachable!("handled above")
            }
        }
    })
}

/// Where companion binaries (such as `echo-cattackle`) are looked for after `PATH`: the directory
/// of this executable.
pub(crate) fn program_dirs() -> Vec<PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(PathBuf::from))
        .into_iter()
        .collect()
}
