//! What the fuzz targets drive (`tests/fuzz/fuzz_targets/`): each takes any bytes, must not
//! panic, and asserts the invariants users rely on.

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::relay::fuzz_lines;
use crate::transport::LineLimit;

/// `cattackle.toml` text: loads or gives diagnostics, and both render.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match crate::config::load_str("cattackle.toml", text) {
        Ok(loaded) => {
            let _ = loaded.render_warnings();
        }
        Err(e) => {
            let _ = e.render();
        }
    }
}

/// A scenario file's text: loads or gives a positioned error, and it renders.
pub fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Run from the repository root: `cattackle.file` paths of the seed scenarios resolve.
    let path = std::path::Path::new("scenarios/fuzz/scenario.yaml");
    match crate::scenario::load_str(path, "scenario", text) {
        Ok(file) => {
            let _ = file.targets();
        }
        Err(e) => {
            let _ = e.render();
        }
    }
}

/// A server's stdout, as the manager reads it: no line past the bound is ever handed on
/// (the read fails instead), and the relay's reader passes every byte through, in order, never
/// holding more than its bound.
pub fn lines(data: &[u8]) {
    let (limit, bytes) = match data.split_first() {
        Some((first, rest)) => (usize::from(*first) % 64 + 1, rest),
        None => return,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut reader = BufReader::new(LineLimit::new(bytes, limit)).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            assert!(
                line.len() <= limit,
                "a line of {} bytes passed a bound of {limit}",
                line.len()
            );
        }
        let passed = fuzz_lines(bytes, limit).await;
        assert_eq!(passed, bytes, "the relay changed what it passed on");
    });
}

/// A `tools/call` result, as JSON: parses to an answer or a typed error, whose message
/// renders (cut at a character boundary).
pub fn response(data: &[u8]) {
    let Ok(result) = serde_json::from_slice::<rmcp::model::CallToolResult>(data) else {
        return;
    };
    match crate::manager::parse_call_result("fuzz", &result) {
        Ok(answer) => {
            let _ = answer.data.len();
        }
        Err(e) => {
            let _ = (e.to_string(), e.kind(), e.is_retryable());
        }
    }
}
