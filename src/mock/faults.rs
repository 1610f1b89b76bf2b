//! Each fault in one place: what a server sends instead of its answer when a fault fires.
//!
//! [`plan`] is a pure function of the fault's action, the answer the server would have sent,
//! the wire, the client's limit and the fault's seeded draws; the connection carries out the
//! steps it returns (see [`super::connection`]). Which requests a fault targets is
//! [`Matcher::targets`], one rule shared with `server_expect`; when it fires
//! (nth/first/every/probability) is [`position_fires`].

use std::time::Duration;

use serde_json::{Value, json};

use super::out::{Flavor, Out};
use super::reply::{self, error_response, to_bytes};
use crate::scenario::model::{Crash, DropPhase, FaultAction, Malformed, Matcher};

/// What a fault's output depends on besides the fault itself.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Setting {
    /// How the connection frames messages.
    pub(crate) flavor: Flavor,
    /// The client's `max_message_size` (for `malformed: oversized`).
    pub(crate) max_message_size: usize,
}

/// The seeded random draws of one firing (drawn by the server, in a fixed order, so that a
/// seed replays a run exactly).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Draws {
    /// `latency` jitter, seconds in `[-jitter, +jitter)`.
    pub(crate) jitter: f64,
}

impl Draws {
    /// The draws `action` needs, from `rng` (none for most faults).
    pub(crate) fn for_action(action: &FaultAction, rng: &mut fastrand::Rng) -> Self {
        match action {
            FaultAction::Latency(l) if !l.jitter.0.is_zero() => {
                let j = l.jitter.0.as_secs_f64();
                Self {
                    jitter: rng.f64() * 2.0 * j - j,
                }
            }
            _ => Self::default(),
        }
    }
}

/// What to send instead of `response` (the whole JSON-RPC answer the server would have sent;
/// `null` for a fault on a new connection, which has none).
pub(crate) fn plan(
    action: &FaultAction,
    response: &Value,
    setting: Setting,
    draws: Draws,
) -> Vec<Out> {
    let id = response.get("id").cloned().unwrap_or(Value::Null);
    let bytes = to_bytes(response);
    let framed = || {
        let mut b = bytes.clone();
        b.push(b'\n');
        b
    };
    let partial = |part: Vec<u8>| match setting.flavor {
        Flavor::Bytes => Out::Raw(part),
        Flavor::Messages | Flavor::Http => Out::Send(part),
    };
    let close = |phase: DropPhase, exit_code: Option<i32>| match phase {
        DropPhase::BeforeResponse => vec![Out::Close { exit_code }],
        DropPhase::MidResponse => vec![
            partial(bytes[..bytes.len() / 2].to_vec()),
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
            &id,
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
        FaultAction::Malformed(kind) => malformed(*kind, &id, response, bytes, setting),
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
        FaultAction::Latency(l) => {
            let secs = (l.latency.0.as_secs_f64() + draws.jitter).max(0.0);
            let wait = Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX);
            vec![Out::Sleep(wait), Out::Send(bytes)]
        }
        FaultAction::Bandwidth(rate) => {
            let all = framed();
            let rate = (*rate).max(1);
            if setting.flavor != Flavor::Bytes {
                let secs = all.len() as f64 / rate as f64;
                return vec![Out::Sleep(Duration::from_secs_f64(secs)), Out::Send(bytes)];
            }
            let chunk = (rate / 10).max(1) as usize;
            let pause = Duration::from_secs_f64(chunk as f64 / rate as f64);
            all.chunks(chunk)
                .flat_map(|c| [Out::Sleep(pause), Out::Raw(c.to_vec())])
                .collect()
        }
        FaultAction::Slicer(s) => {
            let all = framed();
            let size = (s.size as usize).max(1);
            if setting.flavor != Flavor::Bytes {
                let slices = u32::try_from(all.len().div_ceil(size)).unwrap_or(u32::MAX);
                return vec![
                    Out::Sleep(s.delay.0.saturating_mul(slices)),
                    Out::Send(bytes),
                ];
            }
            all.chunks(size)
                .flat_map(|c| [Out::Raw(c.to_vec()), Out::Sleep(s.delay.0)])
                .collect()
        }
        FaultAction::LimitData(n) => {
            let all = framed();
            let cut = usize::try_from(*n).unwrap_or(usize::MAX).min(all.len());
            vec![partial(all[..cut].to_vec()), Out::Close { exit_code: None }]
        }
        FaultAction::ResetPeer => vec![Out::Close { exit_code: None }],
        FaultAction::Timeout(d) if d.0.is_zero() => vec![Out::Hang],
        FaultAction::Timeout(d) => vec![Out::Sleep(d.0), Out::Close { exit_code: None }],
    }
}

fn malformed(
    kind: Malformed,
    id: &Value,
    response: &Value,
    bytes: Vec<u8>,
    setting: Setting,
) -> Vec<Out> {
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
            let data = "x".repeat(setting.max_message_size.saturating_add(1));
            let text = json!({ "data": data, "error": null }).to_string();
            vec![Out::Send(to_bytes(&json!({
                "jsonrpc": "2.0", "id": id, "result": reply::text_result(text, false)
            })))]
        }
        Malformed::StrayStdout => match setting.flavor {
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A fault as the transcript shows it.
pub(crate) fn describe(action: &FaultAction) -> String {
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

/// Whether the `count`th matching request (or connection) fires: nth / first / every, then
/// `probability`, drawn from `rng` only when the position holds.
pub(crate) fn position_fires(m: &Matcher, count: u32, rng: &mut fastrand::Rng) -> bool {
    let position = match (m.nth, m.first, m.every) {
        (Some(n), _, _) => count == n,
        (_, Some(n), _) => count <= n,
        (_, _, Some(k)) => count.is_multiple_of(k.max(1)),
        _ => true,
    };
    position && m.probability.is_none_or(|p| rng.f64() < p)
}

#[cfg(test)]
#[path = "faults_tests.rs"]
mod tests;
