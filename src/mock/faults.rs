//! Carrying out faults: which requests they match, and what the server sends instead.

use std::time::Duration;

use serde_json::{Value, json};

use super::reply;
use super::server::{Flavor, MockServer, Out, error_response, to_bytes};
use crate::scenario::model::{Crash, DropPhase, Fault, FaultAction, Malformed, Matcher};

impl MockServer {
    pub(super) fn apply(&self, action: &FaultAction, id: &Value, response: &mut Value) -> Vec<Out> {
        let bytes = to_bytes(response);
        let framed = || {
            let mut b = bytes.clone();
            b.push(b'\n');
            b
        };
        let close = |phase: DropPhase, exit_code: Option<i32>| match phase {
            DropPhase::BeforeResponse => vec![Out::Close { exit_code }],
            DropPhase::MidResponse => vec![
                self.partial(bytes[..bytes.len() / 2].to_vec()),
                Out::Close { exit_code },
            ],
            DropPhase::AfterResponse => vec![Out::Send(bytes.clone()), Out::Close { exit_code }],
        };
        match action {
            FaultAction::Delay(d) => vec![Out::Sleep(d.0), Out::Send(bytes)],
            FaultAction::Hang | FaultAction::NeverHandshake => vec![Out::Hang],
            FaultAction::Drop(d) => close(d.phase, None),
            FaultAction::Crash(Crash { exit_code, phase }) => close(*phase, Some(*exit_code)),
            FaultAction::ExitBeforeHandshake => vec![Out::Close { exit_code: Some(1) }],
            FaultAction::JsonRpcError(e) => vec![Out::Send(to_bytes(&error_response(
                id,
                e.code,
                &e.message,
                e.data.clone(),
            )))],
            FaultAction::IsError(text) => {
                let mut r = json!({ "jsonrpc": "2.0", "id": id, "result": reply::text_result(text.clone(), true) });
                if let Some(t) = response.pointer("/result/resultType").cloned() {
                    r["result"]["resultType"] = t;
                }
                vec![Out::Send(to_bytes(&r))]
            }
            FaultAction::Malformed(kind) => self.malformed(*kind, id, response, bytes),
            FaultAction::HttpStatus(s) => vec![Out::HttpStatus {
                status: s.status,
                retry_after: s.retry_after,
            }],
            FaultAction::WsClose(c) => vec![Out::WsClose {
                code: c.code,
                reason: c.reason.clone(),
            }],
            FaultAction::SessionExpired => vec![Out::SessionExpired],
            FaultAction::HttpContentType(t) => vec![Out::ContentType(t.clone()), Out::Send(bytes)],
            FaultAction::Latency(l) => vec![Out::Sleep(l.latency.0), Out::Send(bytes)],
            FaultAction::Bandwidth(rate) => {
                let all = framed();
                if self.flavor != Flavor::Bytes {
                    let secs = all.len() as f64 / *rate as f64;
                    return vec![Out::Sleep(Duration::from_secs_f64(secs)), Out::Send(bytes)];
                }
                let chunk = (*rate / 10).max(1) as usize;
                let pause = Duration::from_secs_f64(chunk as f64 / *rate as f64);
                all.chunks(chunk)
                    .flat_map(|c| [Out::Sleep(pause), Out::Raw(c.to_vec())])
                    .collect()
            }
            FaultAction::Slicer(s) => {
                let all = framed();
                let size = s.size as usize;
                if self.flavor != Flavor::Bytes {
                    let slices = all.len().div_ceil(size) as u32;
                    return vec![Out::Sleep(s.delay.0 * slices), Out::Send(bytes)];
                }
                all.chunks(size)
                    .flat_map(|c| [Out::Raw(c.to_vec()), Out::Sleep(s.delay.0)])
                    .collect()
            }
            FaultAction::LimitData(n) => {
                let all = framed();
                let cut = (*n as usize).min(all.len());
                vec![
                    self.partial(all[..cut].to_vec()),
                    Out::Close { exit_code: None },
                ]
            }
            FaultAction::ResetPeer => vec![Out::Close { exit_code: None }],
            FaultAction::Timeout(d) if d.0.is_zero() => vec![Out::Hang],
            FaultAction::Timeout(d) => vec![Out::Sleep(d.0), Out::Close { exit_code: None }],
        }
    }

    /// Part of a message: raw bytes on byte transports, a (broken) whole message elsewhere.
    fn partial(&self, bytes: Vec<u8>) -> Out {
        match self.flavor {
            Flavor::Bytes => Out::Raw(bytes),
            Flavor::Messages | Flavor::Http => Out::Send(bytes),
        }
    }

    fn malformed(&self, kind: Malformed, id: &Value, response: &Value, bytes: Vec<u8>) -> Vec<Out> {
        match kind {
            Malformed::InvalidJson => vec![Out::Send(
                b"{\"jsonrpc\": \"2.0\", this is not JSON".to_vec(),
            )],
            Malformed::Truncated => vec![Out::Send(bytes[..bytes.len() / 2].to_vec())],
            Malformed::WrongId => {
                let mut r = response.clone();
                r["id"] = json!(987_654_321);
                vec![Out::Send(to_bytes(&r))]
            }
            Malformed::WrongShape => vec![Out::Send(to_bytes(
                &json!({ "jsonrpc": "2.0", "id": id, "result": { "content": "not a list of blocks" } }),
            ))],
            Malformed::InvalidUtf8 => {
                let mut b = bytes;
                let at = find(&b, b"\"text\":\"").map_or(b.len() / 2, |i| i + 8);
                b.splice(at..at, [0xff, 0xfe, 0xfd]);
                vec![Out::Send(b)]
            }
            Malformed::Oversized => {
                let data = "x".repeat(self.max_message_size + 1);
                let text = json!({ "data": data, "error": null }).to_string();
                vec![Out::Send(to_bytes(&json!({
                    "jsonrpc": "2.0", "id": id, "result": reply::text_result(text, false)
                })))]
            }
            Malformed::StrayStdout => match self.flavor {
                Flavor::Bytes => vec![
                    Out::Raw(b"debug: handling the call\n".to_vec()),
                    Out::Send(bytes),
                ],
                _ => vec![
                    Out::Send(b"debug: handling the call".to_vec()),
                    Out::Send(bytes),
                ],
            },
            Malformed::DuplicateResponse => vec![Out::Send(bytes.clone()), Out::Send(bytes)],
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A fault as the transcript shows it.
pub(super) fn describe(action: &FaultAction) -> String {
    match action {
        FaultAction::Delay(d) => format!("delay {d}"),
        FaultAction::Malformed(m) => format!("malformed {}", m.as_str()),
        FaultAction::Crash(c) => format!("crash (exit {})", c.exit_code),
        FaultAction::JsonRpcError(e) => format!("jsonrpc_error {}", e.code),
        FaultAction::HttpStatus(s) => format!("http_status {}", s.status),
        FaultAction::HttpContentType(t) => format!("http_content_type {t}"),
        FaultAction::WsClose(c) => format!("ws_close {}", c.code),
        FaultAction::Timeout(d) => format!("timeout {d}"),
        FaultAction::LimitData(n) => format!("limit_data {n}"),
        other => other.key().to_owned(),
    }
}

/// Whether a request is one the fault is about (before counting).
pub(super) fn request_matches(
    fault: &Fault,
    method: &str,
    tool: Option<&str>,
    arguments: Option<&Value>,
) -> bool {
    let m = &fault.matcher;
    let method_ok = match &m.method {
        Some(want) => want == method,
        None if fault.action.on_handshake() => {
            method == "initialize" || method == "server/discover"
        }
        None => method == "tools/call",
    };
    method_ok && call_matches(m.tool.as_deref(), m.arguments.as_ref(), tool, arguments)
}

/// Whether a call's tool and arguments are what is wanted (each `None` wants anything; the
/// arguments partially, see [`contains`]).
pub fn call_matches(
    want_tool: Option<&str>,
    want_arguments: Option<&Value>,
    tool: Option<&str>,
    arguments: Option<&Value>,
) -> bool {
    want_tool.is_none_or(|want| Some(want) == tool)
        && want_arguments.is_none_or(|want| arguments.is_some_and(|got| contains(got, want)))
}

/// Whether the `count`th matching request fires (nth / first / every / probability).
pub(super) fn position_fires(m: &Matcher, count: u32, rng: &mut fastrand::Rng) -> bool {
    let position = match (m.nth, m.first, m.every) {
        (Some(n), _, _) => count == n,
        (_, Some(n), _) => count <= n,
        (_, _, Some(k)) => count.is_multiple_of(k),
        _ => true,
    };
    position && m.probability.is_none_or(|p| rng.f64() < p)
}

/// Whether `got` contains everything in `want` (objects partially, other values exactly).
pub fn contains(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| g.get(k).is_some_and(|gv| contains(gv, wv))),
        _ => got == want,
    }
}
