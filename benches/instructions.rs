//! Instructions per call through the manager, counted by callgrind: noise-free, so commits can
//! be compared on a shared machine. The cattackle is `echo-cattackle`'s handler in this process,
//! over an in-memory pipe (client and server both counted; the server part is the same for
//! every commit).
//!
//! ```sh
//! cargo bench --bench instructions --no-run     # prints the executable's path
//! for n in 1000 2000; do valgrind --tool=callgrind --callgrind-out-file=/dev/null <exe> $n; done
//! ```
//!
//! The difference of the two totals (`Collected :`) over 1000 is the count per call: setup and
//! shutdown cancel out. Under `cargo bench` it runs 1000 calls and prints their wall time.

use std::time::Duration;

use cattackle_harness::config::load_str;
use cattackle_harness::manager::{McpClientManager, Payload};
use cattackle_harness::transport::{Connection, MemoryConnector};
use echo_cattackle::EchoCattackle;
use rmcp::ServiceExt;

const CONFIG: &str = "name = \"echo\"\nversion = \"1\"\ndescription = \"d\"\n\
    commands = { echo = { description = \"e\" } }\n[mcp.transport]\ntype = \"stdio\"\ncommand = \"unused\"\n";

/// Starts the echo handler on one end of an in-memory pipe; returns the other end.
fn serve_in_memory() -> Connection {
    let (client, server) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = EchoCattackle::new().serve(server).await {
            let _ = running.waiting().await;
        }
    });
    Connection::duplex(client)
}

fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let start = std::time::Instant::now();
    runtime.block_on(async {
        let connector = MemoryConnector::new(|_| Ok(serve_in_memory()));
        let manager = McpClientManager::with_connector(connector);
        let config = load_str("bench.toml", CONFIG).expect("config").config;
        for _ in 0..calls {
            let response = manager
                .call(&config, "echo", Payload::text("hi"))
                .await
                .expect("call");
            assert_eq!(response.data, "hi");
        }
        manager.close_all_sessions(Duration::ZERO).await;
    });
    #[expect(clippy::print_stdout, reason = "a bench reports on stdout")]
    {
        println!("{calls} in-process calls in {:?}", start.elapsed());
    }
}
