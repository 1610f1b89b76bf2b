//! The command line: arguments, dispatch and exit codes.

mod call;
mod check;
mod exit;
mod list;
mod list_tools;
pub(crate) mod logging;
mod mock_server;
mod record;
mod schema;
pub(crate) mod signals;
mod test;
mod test_print;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
pub(crate) use exit::{EXIT_CODES, EXIT_FAILED, EXIT_OK, EXIT_USAGE};

/// Drive Catmandu cattackles (MCP servers) through the client manager.
#[derive(Parser, Debug)]
#[command(name = "cattackle", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// More logs on stderr (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    /// Colours: `auto` (on a terminal, unless NO_COLOR is set), `always`, `never`.
    #[arg(long, global = true, default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub(crate) color: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Call one command of a cattackle and print its `data`.
    Call(call::CallArgs),
    /// List the cattackles of a cattackles directory, with their commands and transports.
    #[command(after_help = format!("{EXIT_CODES}\n\nExamples:\n  cattackle list\n  cattackle list path/to/cattackles --tools"))]
    List(list::ListArgs),
    /// Run scenario files (YAML) through the client manager against mocks and real cattackles.
    Test(test::TestArgs),
    /// Check a cattackle or any MCP server against the conformance pack (lifecycle, tools, the
    /// cattackle contract, robustness, transport hygiene, wire schema).
    Check(check::CheckArgs),
    /// Call a real cattackle and write a scenario whose mock answers exactly what it answered
    /// (its mocked twin), run against the mock and the real server side by side.
    Record(record::RecordArgs),
    /// Print the JSON Schema of scenario files (or, with --check-report, of check's JSON).
    #[command(
        after_help = "Examples:\n  cattackle schema > docs/scenario.schema.json\n  cattackle schema --check-report\n  cattackle schema --test-report"
    )]
    Schema(schema::SchemaArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Examples:\n  cattackle completions bash > ~/.local/share/bash-completion/completions/cattackle\n  cattackle completions zsh > ~/.zfunc/_cattackle\n  cattackle completions fish > ~/.config/fish/completions/cattackle.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Serve a scenario's mock on stdin/stdout (used by `stdio-process` scenarios).
    #[command(hide = true)]
    MockServer(mock_server::MockServerArgs),
}

impl Cli {
    /// Whether SIGINT, SIGTERM and SIGHUP stop the children and exit (not for the mock server,
    /// a child itself, which handles SIGTERM as a busy cattackle would).
    pub(crate) fn owns_signals(&self) -> bool {
        !matches!(self.command, Command::MockServer(_))
    }

    /// Whether the command runs scenarios (whose manager warnings are expected, and recorded).
    pub(crate) fn runs_scenarios(&self) -> bool {
        matches!(self.command, Command::Test(_) | Command::MockServer(_))
    }
}

/// Runs the command; async commands on a current-thread runtime (`test` builds one per trial).
pub(crate) fn run(cli: Cli) -> u8 {
    let choice = match cli.color.as_str() {
        "always" => anstream::ColorChoice::Always,
        "never" => anstream::ColorChoice::Never,
        _ => anstream::ColorChoice::Auto,
    };
    choice.write_global();
    let command = match cli.command {
        Command::Test(args) => return test::run_tests(args),
        Command::Schema(args) => return schema::run(&args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "cattackle",
                &mut std::io::stdout(),
            );
            return EXIT_OK;
        }
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
            Command::List(args) => list::run(args).await,
            Command::Check(args) => check::run(args).await,
            Command::Record(args) => record::run(args).await,
            Command::Test(_) | Command::Schema(_) | Command::Completions { .. } => {
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
