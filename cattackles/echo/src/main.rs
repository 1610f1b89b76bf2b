//! `echo-cattackle`: the reference cattackle as a process.

use clap::{Parser, ValueEnum};
use echo_cattackle::{EchoCattackle, MCP_PATH, serve_http, serve_websocket};
use rmcp::ServiceExt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Transport {
    /// Newline-delimited JSON-RPC on stdin/stdout; exits on stdin EOF.
    Stdio,
    /// WebSocket at ws://HOST:PORT/mcp (subprotocol `mcp`).
    Websocket,
    /// MCP Streamable HTTP at http://HOST:PORT/mcp.
    Http,
}

/// The reference cattackle: tools `echo`, `ping` and `joke`. Logs go to stderr only. For the
/// network transports, `--port 0` picks a free port; the bound address is printed on stderr as
/// `listening on ws://127.0.0.1:PORT/mcp` (or `http://…`).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// How to serve.
    #[arg(long, value_enum, default_value = "stdio")]
    transport: Transport,
    /// Address to bind (network transports).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to bind (network transports); 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
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
    if args.transport == Transport::Stdio {
        let service = EchoCattackle::new()
            .serve(rmcp::transport::stdio_pipes())
            .await?;
        service.waiting().await?;
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await?;
    let address = listener.local_addr()?;
    let scheme = if args.transport == Transport::Websocket {
        "ws"
    } else {
        "http"
    };
    #[expect(
        clippy::print_stderr,
        reason = "the bound address is how callers find the port"
    )]
    {
        eprintln!("listening on {scheme}://{address}{MCP_PATH}");
    }
    match args.transport {
        Transport::Websocket => serve_websocket(listener).await?,
        _ => serve_http(listener).await?,
    }
    Ok(())
}
