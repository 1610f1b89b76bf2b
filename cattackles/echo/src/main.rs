//! `echo-cattackle`: the reference cattackle as a process.

use clap::{Parser, ValueEnum};
use echo_cattackle::EchoCattackle;
use rmcp::ServiceExt;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Transport {
    /// Newline-delimited JSON-RPC on stdin/stdout; exits on stdin EOF.
    Stdio,
}

/// The reference cattackle: tools `echo`, `ping` and `joke`. Logs go to stderr only.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// How to serve.
    #[arg(long, value_enum, default_value = "stdio")]
    transport: Transport,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let args = Args::parse();
    match args.transport {
        Transport::Stdio => {
            let service = EchoCattackle::new()
                .serve(rmcp::transport::stdio_pipes())
                .await?;
            service.waiting().await?;
        }
    }
    Ok(())
}
