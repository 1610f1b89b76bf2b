//! A raw JSON-RPC server that knows only the `initialize` era and never answers
//! `server/discover`: the worst case of `protocol = "auto"`.

use cattackle_harness::transport::{Connection, MemoryConnector};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A connector whose every connection is a new legacy server; counts connections.
pub fn legacy_connector(
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> MemoryConnector {
    MemoryConnector::new(move |_| {
        connections.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let (client, server) = tokio::io::duplex(1 << 16);
        tokio::spawn(serve(server));
        Ok(Connection::duplex(client))
    })
}

async fn serve(stream: tokio::io::DuplexStream) {
    let (read, mut write) = tokio::io::split(stream);
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(request) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let id = request["id"].clone();
        let result = match request["method"].as_str() {
            Some("initialize") => json!({
                "protocolVersion": request["params"]["protocolVersion"],
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "legacy", "version": "1"}
            }),
            Some("tools/call") => {
                json!({"content": [{"type": "text", "text": "{\"data\": \"legacy\", \"error\": null}"}]})
            }
            Some("ping") => json!({}),
            _ => continue, // server/discover and notifications: silence
        };
        let answer = json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string() + "\n";
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}
