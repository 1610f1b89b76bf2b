//! Faults: what the mock does wrong, and to which requests.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::super::Dur;
use super::{JsonRpcErrorSpec, flag};

/// Which requests a fault applies to. All given conditions must hold.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    /// The JSON-RPC method. Default `tools/call` (connection faults ignore it).
    #[serde(default)]
    pub method: Option<String>,
    /// The tool name (`tools/call` only).
    #[serde(default)]
    pub tool: Option<String>,
    /// Arguments the request must contain (a partial match).
    #[serde(default)]
    pub arguments: Option<Value>,
    /// Only the nth matching request (1-based), counted over the whole run.
    #[serde(default)]
    pub nth: Option<u32>,
    /// Only the first N matching requests.
    #[serde(default)]
    pub first: Option<u32>,
    /// Every kth matching request (the kth, 2kth, …).
    #[serde(default)]
    pub every: Option<u32>,
    /// Each matching request with this probability, drawn from the scenario's seed.
    #[serde(default)]
    pub probability: Option<f64>,
}

/// One fault: a matcher and exactly one action.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "FaultSpec")]
pub struct Fault {
    /// Which requests (or connections) it applies to.
    pub matcher: Matcher,
    /// What happens.
    pub action: FaultAction,
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultAction {
    /// Answer late.
    Delay(Dur),
    /// Never answer; the connection stays open.
    Hang,
    /// Close the connection (end the process).
    Drop(DropConnection),
    /// Exit with a code (in-process: close and report the code).
    Crash(Crash),
    /// Close each new connection before reading anything.
    ExitBeforeHandshake,
    /// Never answer the handshake.
    NeverHandshake,
    /// Answer with a JSON-RPC error.
    JsonRpcError(JsonRpcErrorSpec),
    /// Answer with `isError: true` and this text.
    IsError(String),
    /// Answer with something broken.
    Malformed(Malformed),
    /// HTTP only: answer with this status.
    HttpStatus(HttpStatus),
    /// WebSocket only: send a close frame.
    WsClose(WsClose),
    /// HTTP only: answer 404 as a server that lost the session.
    SessionExpired,
    /// HTTP only: the answer with this `Content-Type`.
    HttpContentType(String),
    /// Toxiproxy `latency`: delay each matching answer by `latency` ± `jitter` (seeded).
    Latency(Latency),
    /// Toxiproxy `bandwidth`: send matching answers at this many bytes per second.
    Bandwidth(u64),
    /// Toxiproxy `slicer`: send matching answers in slices with a delay between them.
    Slicer(Slicer),
    /// Toxiproxy `limit_data`: send only this many bytes of the answer, then close.
    LimitData(u64),
    /// Toxiproxy `reset_peer`: close the connection at once.
    ResetPeer,
    /// Toxiproxy `timeout`: send nothing, close after this long (never if 0).
    Timeout(Dur),
}

impl FaultAction {
    /// The key that names the action in a scenario file.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Delay(_) => "delay",
            Self::Hang => "hang",
            Self::Drop(_) => "drop",
            Self::Crash(_) => "crash",
            Self::ExitBeforeHandshake => "exit_before_handshake",
            Self::NeverHandshake => "never_handshake",
            Self::JsonRpcError(_) => "jsonrpc_error",
            Self::IsError(_) => "is_error",
            Self::Malformed(_) => "malformed",
            Self::HttpStatus(_) => "http_status",
            Self::WsClose(_) => "ws_close",
            Self::SessionExpired => "session_expired",
            Self::HttpContentType(_) => "http_content_type",
            Self::Latency(_) => "latency",
            Self::Bandwidth(_) => "bandwidth",
            Self::Slicer(_) => "slicer",
            Self::LimitData(_) => "limit_data",
            Self::ResetPeer => "reset_peer",
            Self::Timeout(_) => "timeout",
        }
    }

    /// Whether the fault is about connections (not requests).
    pub fn on_connect(&self) -> bool {
        matches!(self, Self::ExitBeforeHandshake)
    }

    /// Whether the fault targets the handshake requests by default.
    pub fn on_handshake(&self) -> bool {
        matches!(self, Self::NeverHandshake)
    }
}

/// When a `drop` happens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DropPhase {
    /// Instead of answering (default).
    #[default]
    BeforeResponse,
    /// Halfway through writing the answer.
    MidResponse,
    /// Right after answering.
    AfterResponse,
}

/// `drop`: `true`, or `{ phase: … }`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DropConnection {
    /// When the connection closes.
    #[serde(default)]
    pub phase: DropPhase,
}

/// `crash`: the process exits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Crash {
    /// The exit code. Default 1.
    #[serde(default = "one")]
    pub exit_code: i32,
    /// When it exits.
    #[serde(default)]
    pub phase: DropPhase,
}

fn one() -> i32 {
    1
}

/// Ways an answer can be broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Malformed {
    /// A line that is not JSON.
    InvalidJson,
    /// The first half of the answer, then a newline.
    Truncated,
    /// The answer with an id nobody asked for.
    WrongId,
    /// A JSON-RPC response whose `result` is not a `CallToolResult`.
    WrongShape,
    /// The answer with invalid UTF-8 bytes in a string.
    InvalidUtf8,
    /// An answer larger than the client's `max_message_size` (plus one byte).
    Oversized,
    /// A line of plain text before the answer (a `print` to stdout).
    StrayStdout,
    /// The answer, twice.
    DuplicateResponse,
}

impl Malformed {
    /// The spelling in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::Truncated => "truncated",
            Self::WrongId => "wrong_id",
            Self::WrongShape => "wrong_shape",
            Self::InvalidUtf8 => "invalid_utf8",
            Self::Oversized => "oversized",
            Self::StrayStdout => "stray_stdout",
            Self::DuplicateResponse => "duplicate_response",
        }
    }
}

/// `http_status`: an HTTP error status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpStatus {
    /// The status code, e.g. 503.
    pub status: u16,
    /// A `Retry-After` header, in seconds.
    #[serde(default)]
    pub retry_after: Option<u64>,
}

/// `ws_close`: a WebSocket close frame.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WsClose {
    /// The close code, e.g. 1011.
    pub code: u16,
    /// The close reason.
    #[serde(default)]
    pub reason: String,
}

/// `latency`: a delay with jitter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    /// The base delay.
    pub latency: Dur,
    /// Up to this much more or less, drawn from the seed.
    #[serde(default)]
    pub jitter: Dur,
}

/// `slicer`: small writes with pauses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slicer {
    /// Bytes per slice.
    pub size: u64,
    /// Pause between slices.
    #[serde(default)]
    pub delay: Dur,
}

/// A fault, as written: `match` and exactly one action key.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultSpec {
    /// Which requests it applies to. Default: every `tools/call`.
    #[serde(default, rename = "match")]
    matcher: Option<Matcher>,
    /// Answer late by this long.
    #[serde(default)]
    delay: Option<Dur>,
    /// `true`: never answer.
    #[serde(default)]
    hang: Option<bool>,
    /// `true` or `{ phase: before_response | mid_response | after_response }`: close the connection.
    #[serde(default)]
    drop: Option<DropSpec>,
    /// `{ exit_code, phase }`: the process exits.
    #[serde(default)]
    crash: Option<Crash>,
    /// `true`: close each new connection before the handshake.
    #[serde(default)]
    exit_before_handshake: Option<bool>,
    /// `true`: never answer `initialize` / `server/discover`.
    #[serde(default)]
    never_handshake: Option<bool>,
    /// `{ code, message }`: a JSON-RPC error.
    #[serde(default)]
    jsonrpc_error: Option<JsonRpcErrorSpec>,
    /// A result with `isError: true` and this text.
    #[serde(default)]
    is_error: Option<String>,
    /// A broken answer.
    #[serde(default)]
    malformed: Option<Malformed>,
    /// HTTP only: `{ status, retry_after }`.
    #[serde(default)]
    http_status: Option<HttpStatus>,
    /// WebSocket only: `{ code, reason }`.
    #[serde(default)]
    ws_close: Option<WsClose>,
    /// HTTP only, `true`: 404 as for a session the server no longer knows.
    #[serde(default)]
    session_expired: Option<bool>,
    /// HTTP only: the answer with this `Content-Type` (e.g. `text/plain`).
    #[serde(default)]
    http_content_type: Option<String>,
    /// `{ latency, jitter }`.
    #[serde(default)]
    latency: Option<Latency>,
    /// Bytes per second.
    #[serde(default)]
    bandwidth: Option<u64>,
    /// `{ size, delay }`.
    #[serde(default)]
    slicer: Option<Slicer>,
    /// Bytes of the answer sent before the connection closes.
    #[serde(default)]
    limit_data: Option<u64>,
    /// `true`: close the connection at once.
    #[serde(default)]
    reset_peer: Option<bool>,
    /// Send nothing, close after this long (never if 0).
    #[serde(default)]
    timeout: Option<Dur>,
}

/// `drop: true` or `drop: { phase }`, read by a visitor that names both forms when neither fits.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DropSpec {
    Flag(bool),
    Phase(DropConnection),
}

impl<'de> Deserialize<'de> for DropSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Forms;

        impl<'de> serde::de::Visitor<'de> for Forms {
            type Value = DropSpec;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "`true` (close instead of answering) or `{ phase: before_response | mid_response | after_response }`",
                )
            }

            fn visit_bool<E: serde::de::Error>(self, flag: bool) -> Result<DropSpec, E> {
                Ok(DropSpec::Flag(flag))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<DropSpec, A::Error> {
                let phase =
                    DropConnection::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(DropSpec::Phase(phase))
            }
        }

        d.deserialize_any(Forms)
    }
}

impl JsonSchema for DropSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DropSpec".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let phase = generator.subschema_for::<DropConnection>();
        schemars::json_schema!({
            "description": "`true`, or `{ phase }`.",
            "anyOf": [{ "type": "boolean" }, phase]
        })
    }
}

impl TryFrom<FaultSpec> for Fault {
    type Error = String;

    fn try_from(spec: FaultSpec) -> Result<Self, String> {
        let drop = spec.drop.and_then(|d| match d {
            DropSpec::Flag(true) => Some(FaultAction::Drop(DropConnection::default())),
            DropSpec::Flag(false) => None,
            DropSpec::Phase(p) => Some(FaultAction::Drop(p)),
        });
        let action = super::required_action(
            "fault",
            vec![
                ("delay", spec.delay.map(FaultAction::Delay)),
                ("hang", flag(spec.hang, FaultAction::Hang)),
                ("drop", drop),
                ("crash", spec.crash.map(FaultAction::Crash)),
                (
                    "exit_before_handshake",
                    flag(spec.exit_before_handshake, FaultAction::ExitBeforeHandshake),
                ),
                (
                    "never_handshake",
                    flag(spec.never_handshake, FaultAction::NeverHandshake),
                ),
                (
                    "jsonrpc_error",
                    spec.jsonrpc_error.map(FaultAction::JsonRpcError),
                ),
                ("is_error", spec.is_error.map(FaultAction::IsError)),
                ("malformed", spec.malformed.map(FaultAction::Malformed)),
                ("http_status", spec.http_status.map(FaultAction::HttpStatus)),
                (
                    "http_content_type",
                    spec.http_content_type.map(FaultAction::HttpContentType),
                ),
                ("ws_close", spec.ws_close.map(FaultAction::WsClose)),
                (
                    "session_expired",
                    flag(spec.session_expired, FaultAction::SessionExpired),
                ),
                ("latency", spec.latency.map(FaultAction::Latency)),
                ("bandwidth", spec.bandwidth.map(FaultAction::Bandwidth)),
                ("slicer", spec.slicer.map(FaultAction::Slicer)),
                ("limit_data", spec.limit_data.map(FaultAction::LimitData)),
                ("reset_peer", flag(spec.reset_peer, FaultAction::ResetPeer)),
                ("timeout", spec.timeout.map(FaultAction::Timeout)),
            ],
        )?;
        let matcher = spec.matcher.unwrap_or_default();
        let exclusive = [
            matcher.nth.is_some(),
            matcher.first.is_some(),
            matcher.every.is_some(),
        ];
        if exclusive.iter().filter(|b| **b).count() > 1 {
            return Err("`match` takes one of `nth`, `first`, `every`".to_owned());
        }
        if matcher.nth == Some(0) || matcher.every == Some(0) {
            return Err("`nth` and `every` count from 1".to_owned());
        }
        if let Some(p) = matcher.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(format!("`probability` is between 0 and 1, not {p}"));
        }
        if matches!(action, FaultAction::Bandwidth(0)) {
            return Err("`bandwidth` must be at least 1 byte per second".to_owned());
        }
        if matches!(action, FaultAction::Slicer(Slicer { size: 0, .. })) {
            return Err("`slicer.size` must be at least 1 byte".to_owned());
        }
        Ok(Self { matcher, action })
    }
}

super::schema_of_spec!(Fault, FaultSpec);
