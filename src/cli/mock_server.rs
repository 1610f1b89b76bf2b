//! `cattackle mock-server` (hidden): serves a scenario's mock on stdin/stdout, for scenarios that
//! run it as a real child process (`transports: [stdio-process]`).

use std::path::PathBuf;
use std::sync::Arc;

use cattackle_harness::journal::{Journal, Redactor};
use cattackle_harness::mock::{Ending, Flavor, MockServer, serve_bytes};
use cattackle_harness::scenario::load_file;

use super::{EXIT_OK, EXIT_USAGE};

#[derive(clap::Args, Debug)]
pub(crate) struct MockServerArgs {
    /// The scenario whose `mock` and `faults` to serve.
    scenario: PathBuf,
    /// Seed of probabilistic faults and jitter.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Append the transcript and received requests here, one JSON line each.
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Keep the fault counters here, so that they count across processes.
    #[arg(long)]
    state: Option<PathBuf>,
}

pub(crate) async fn run(args: MockServerArgs) -> u8 {
    let file = match load_file(&args.scenario, std::path::Path::new("")) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("{}", e.render());
            return EXIT_USAGE;
        }
    };
    let mut journal = Journal::new(false, Redactor::default());
    if let Some(path) = &args.journal {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            Ok(f) => journal = journal.mirrored(f),
            Err(e) => {
                eprintln!("error: cannot open the journal {}: {e}", path.display());
                return EXIT_USAGE;
            }
        }
    }
    let config = &file.config;
    let server = MockServer::new(
        &file.scenario.mock,
        config
            .commands
            .iter()
            .map(|(n, c)| (n.clone(), c.description.clone())),
        file.scenario.faults.clone(),
        Flavor::Bytes,
        config.mcp.max_message_size,
        args.seed,
        Arc::new(journal),
    );
    let server = Arc::new(match args.state {
        Some(state) => server.persisted(state),
        None => server,
    });
    let ending = Ending::default();
    // SIGTERM (a busy child being stopped): read what the client already wrote, then exit.
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    serve_bytes(
        server,
        tokio::io::stdin(),
        tokio::io::stdout(),
        ending.clone(),
        terminate,
    )
    .await;
    let code = ending.exit_code();
    // Exit now, as a process that drops its connection does: waiting for the runtime to shut
    // down would wait for the blocking read of stdin, which lasts until the client gives up.
    std::process::exit(code.unwrap_or(i32::from(EXIT_OK)))
}
