//! What the benches share: the echo server's configuration per wire, and a network echo server.

use std::path::Path;
use std::process::Stdio;

use cattackle_harness::config::{CattackleConfig, load_str};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The wire a bench runs over.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Wire {
    Stdio,
    WebSocket,
    Http,
}

pub(crate) fn config(wire: Wire, binary: &Path, url: &str) -> CattackleConfig {
    let transport = match wire {
        Wire::Stdio => format!(
            "type = \"stdio\"\ncommand = {:?}\nargs = [\"--transport\", \"stdio\"]",
            binary.display().to_string()
        ),
        Wire::WebSocket => format!("type = \"websocket\"\nurl = \"{url}\""),
        Wire::Http => format!("type = \"http\"\nurl = \"{url}\""),
    };
    let text = format!(
        "name = \"echo\"\nversion = \"1\"\ndescription = \"bench\"\n\
         commands = {{ echo = {{ description = \"e\" }} }}\n[mcp.transport]\n{transport}\n"
    );
    load_str("bench.toml", &text).expect("bench config").config
}

/// Starts a network echo server on a free port; returns it and its URL.
pub(crate) async fn network_server(binary: &Path, wire: Wire) -> (tokio::process::Child, String) {
    let name = if wire == Wire::WebSocket {
        "websocket"
    } else {
        "http"
    };
    let mut child = tokio::process::Command::new(binary)
        .args(["--transport", name, "--port", "0"])
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn echo server");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(url) = line.strip_prefix("listening on ") {
            return (child, url.to_owned());
        }
    }
    panic!("echo server did not say where it listens");
}
