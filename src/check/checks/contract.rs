//! The cattackle contract, for each declared command: the answer to the router's payload is one
//! text block holding `{"data": string, "error": string|null}`; empty input, unknown `extra`
//! keys, unicode and a payload just under `max_payload_size` are answered. Only harmless inputs
//! are sent.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::ctx::Ctx;
use super::super::model::{Finding, Verdict};
use super::super::wire::{Wire, WireError};
use super::one;

/// The text the checks send.
const PROBE: &str = "cattackle check: hello";
/// Unicode that must survive the round trip.
const UNICODE: &str = "héllo wörld — 猫 🐈 ✓ «ünïcödé»";

/// What a `tools/call` answer is, by the contract.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Shape {
    /// `{"data": "...", "error": null | "..."}`.
    Good { data: String },
    /// A JSON-RPC error instead of a result.
    JsonRpcError(String),
    /// `isError: true` with text that is not a contract object.
    PlainIsError(String),
    /// No text block first.
    NoText(String),
    /// The text is not JSON.
    NotJson(String),
    /// JSON, but not an object.
    NotObject(String),
    /// An object without `data`.
    NoData(String),
    /// `data` is not a string.
    DataNotString { found: &'static str, text: String },
    /// `error` is neither a string nor null.
    ErrorWrongType { found: &'static str, text: String },
}

impl Shape {
    /// Reads a response frame.
    pub(crate) fn of(frame: &Value) -> Self {
        if let Some(error) = frame.get("error") {
            return Self::JsonRpcError(error.to_string());
        }
        let result = frame.get("result").cloned().unwrap_or(Value::Null);
        let is_error = result.get("isError").and_then(Value::as_bool) == Some(true);
        let first = result.pointer("/content/0");
        let Some(text) = first
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .and_then(|b| b.get("text"))
            .and_then(Value::as_str)
        else {
            return Self::NoText(result.to_string());
        };
        let text = text.to_owned();
        let parsed: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) if is_error => return Self::PlainIsError(text),
            Err(_) => return Self::NotJson(text),
        };
        let Some(object) = parsed.as_object() else {
            return if is_error {
                Self::PlainIsError(text)
            } else {
                Self::NotObject(text)
            };
        };
        let error_type = object.get("error").map(type_name);
        if let Some(found @ ("number" | "boolean" | "array" | "object")) = error_type {
            return Self::ErrorWrongType { found, text };
        }
        match object.get("data") {
            None => Self::NoData(text),
            Some(Value::String(data)) => Self::Good { data: data.clone() },
            Some(other) => Self::DataNotString {
                found: type_name(other),
                text,
            },
        }
    }

    /// Whether the answer is a JSON object in one text block (the response-shape check).
    fn is_object(&self) -> bool {
        matches!(
            self,
            Self::Good { .. }
                | Self::NoData(_)
                | Self::DataNotString { .. }
                | Self::ErrorWrongType { .. }
        )
    }

    /// What is wrong, in one line, and the offending text.
    fn problem(&self) -> (String, String) {
        match self {
            Self::Good { .. } => ("fine".to_owned(), String::new()),
            Self::JsonRpcError(e) => ("a JSON-RPC error instead of a result".to_owned(), e.clone()),
            Self::PlainIsError(t) => (
                "isError with plain text: the contract answers errors as {\"data\": \"\", \"error\": \"...\"}".to_owned(),
                t.clone(),
            ),
            Self::NoText(r) => ("the first content block is not text".to_owned(), r.clone()),
            Self::NotJson(t) => ("the text is not JSON".to_owned(), t.clone()),
            Self::NotObject(t) => ("the text is JSON but not an object".to_owned(), t.clone()),
            Self::NoData(t) => ("the object has no `data`".to_owned(), t.clone()),
            Self::DataNotString { found, text } => (format!("`data` is a {found}, not a string"), text.clone()),
            Self::ErrorWrongType { found, text } => (
                format!("`error` is a {found}, not a string or null"),
                text.clone(),
            ),
        }
    }

    fn violated(&self, ctx: &Ctx) -> Verdict {
        let (message, text) = self.problem();
        Verdict::violated(message, ctx.target.redact(&text))
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Runs `judge` for every declared command on one session; a session lost to one command is
/// reopened for the next.
async fn per_command<F, Fut>(ctx: &Ctx, judge: F) -> Vec<Finding>
where
    F: Fn(Ctx, Arc<Wire>, String) -> Fut,
    Fut: std::future::Future<Output = Verdict>,
{
    let mut findings = Vec::new();
    let mut wire: Option<Arc<Wire>> = None;
    for command in ctx.commands() {
        let session = match &wire {
            Some(w) if w.is_open() => w.clone(),
            _ => match ctx.start().await {
                Ok(started) => {
                    wire = Some(started.wire.clone());
                    started.wire
                }
                Err(v) => return one(v),
            },
        };
        let verdict = judge(ctx.clone(), session, command.clone()).await;
        findings.push(Finding {
            subject: Some(command),
            verdict,
        });
    }
    if let Some(wire) = wire {
        wire.close(ctx.grace()).await;
    }
    findings
}

/// The answer to `arguments`, or a verdict for no answer.
async fn answer(
    ctx: &Ctx,
    wire: &Arc<Wire>,
    command: &str,
    arguments: Value,
) -> Result<Value, Verdict> {
    match ctx.call(wire, command, arguments).await {
        Ok(frame) => Ok(frame),
        Err(e @ (WireError::Closed(_) | WireError::TimedOut(_))) => {
            Err(ctx.no_answer(wire, &format!("`{command}`"), e).await)
        }
        Err(e) => Err(Verdict::Broken(e.to_string())),
    }
}

/// The router's payload is answered with one text block holding a JSON object.
pub(crate) async fn response_shape(ctx: Ctx) -> Vec<Finding> {
    per_command(&ctx, |ctx, wire, command| async move {
        let frame = match answer(&ctx, &wire, &command, ctx.payload(PROBE)).await {
            Ok(frame) => frame,
            Err(v) => return v,
        };
        let shape = Shape::of(&frame);
        if shape.is_object() {
            Verdict::Pass("one text block holding a JSON object".to_owned())
        } else {
            shape.violated(&ctx)
        }
    })
    .await
}

/// In that object, `data` is a string and `error` a string or null.
pub(crate) async fn data_is_string(ctx: Ctx) -> Vec<Finding> {
    per_command(&ctx, |ctx, wire, command| async move {
        let frame = match answer(&ctx, &wire, &command, ctx.payload(PROBE)).await {
            Ok(frame) => frame,
            Err(v) => return v,
        };
        match Shape::of(&frame) {
            Shape::Good { data } => Verdict::Pass(format!(
                "data {}",
                ctx.target.redact(&json!(data).to_string())
            )),
            shape if shape.is_object() => shape.violated(&ctx),
            _ => Verdict::Skip(
                "the answer is not a JSON object (see contract.response-shape)".to_owned(),
            ),
        }
    })
    .await
}

/// An empty `text` with empty `accumulated_params` gets an answer, not a crash.
pub(crate) async fn empty_input(ctx: Ctx) -> Vec<Finding> {
    per_command(&ctx, |ctx, wire, command| async move {
        let frame = match answer(&ctx, &wire, &command, ctx.payload("")).await {
            Ok(frame) => frame,
            Err(v) => return v,
        };
        match Shape::of(&frame) {
            Shape::JsonRpcError(e) => Verdict::violated(
                "empty input was answered with a JSON-RPC error: the contract answers errors in `error`",
                ctx.target.redact(&e),
            ),
            _ => Verdict::Pass("answered".to_owned()),
        }
    })
    .await
}

/// Keys under `extra` that the cattackle does not know are accepted.
pub(crate) async fn extra_keys(ctx: Ctx) -> Vec<Finding> {
    per_command(&ctx, |ctx, wire, command| async move {
        let plain = match answer(&ctx, &wire, &command, ctx.payload(PROBE)).await {
            Ok(frame) => frame,
            Err(v) => return v,
        };
        let mut payload = ctx.payload(PROBE);
        payload["extra"]["chat_id"] = json!(42);
        payload["extra"]["cattackle_check_unknown_key"] = json!({ "nested": [1, "two"] });
        let frame = match answer(&ctx, &wire, &command, payload).await {
            Ok(frame) => frame,
            Err(v) => return v,
        };
        let failed = |f: &Value| {
            f.get("error").is_some()
                || f.pointer("/result/isError").and_then(Value::as_bool) == Some(true)
        };
        if failed(&frame) && !failed(&plain) {
            Verdict::violated(
                "unknown keys under `extra` turned a good answer into an error",
                ctx.shown(&frame),
            )
        } else {
            Verdict::Pass("accepted".to_owned())
        }
    })
    .await
}

/// Unicode round-trips (an echo shows it in `data`; any command keeps the contract).
pub(crate) async fn unicode(ctx: Ctx) -> Vec<Finding> {
    per_command(&ctx, |ctx, wire, command| async move {
        let plain = match answer(&ctx, &wire, &command, ctx.payload(PROBE)).await {
            Ok(frame) => frame,
            Err(v) => return v,
        };
        if !matches!(Shape::of(&plain), Shape::Good { .. }) {
            return Verdict::Skip(
                "the plain answer already breaks the contract (see contract.response-shape)"
                    .to_owned(),
            );
        }
        let frame = match answer(&ctx, &wire, &command, ctx.payload(UNICODE)).await {
            Ok(frame) => frame,
            Err(v) => return v,
        };
        match Shape::of(&frame) {
            Shape::Good { data } if data.contains(UNICODE) => {
                Verdict::Pass("round-trips in `data`".to_owned())
            }
            Shape::Good { .. } => {
                Verdict::Pass("the contract holds (the command does not echo)".to_owned())
            }
            shape => {
                let (message, text) = shape.problem();
                Verdict::violated(
                    format!("with unicode text: {message}"),
                    ctx.target.redact(&text),
                )
            }
        }
    })
    .await
}

/// A payload just under `settings.max_payload_size` is answered.
pub(crate) async fn max_payload(ctx: Ctx) -> Vec<Finding> {
    let Some(limit) = ctx.target.config.settings.max_payload_size else {
        return one(Verdict::Skip(
            "no `settings.max_payload_size` in cattackle.toml".to_owned(),
        ));
    };
    let Ok(limit) = usize::try_from(limit) else {
        return one(Verdict::Skip(
            "max_payload_size is larger than this machine can send".to_owned(),
        ));
    };
    let base = serde_json::to_vec(&ctx.payload("")).map_or(0, |v| v.len());
    let Some(fill) = limit
        .checked_sub(base + 1)
        .filter(|f| *f <= 64 * 1024 * 1024)
    else {
        return one(Verdict::Skip(format!(
            "max_payload_size ({limit} bytes) leaves no room for text, or is over 64 MiB"
        )));
    };
    let text = "x".repeat(fill);
    per_command(&ctx, |ctx, wire, command| {
        let text = text.clone();
        async move {
            let frame = match answer(&ctx, &wire, &command, ctx.payload(&text)).await {
                Ok(frame) => frame,
                Err(v) => return v,
            };
            match Shape::of(&frame) {
                Shape::JsonRpcError(e) => Verdict::violated(
                    format!(
                        "a payload of {} bytes (just under max_payload_size) got a JSON-RPC error",
                        limit - 1
                    ),
                    ctx.target.redact(&e),
                ),
                _ => Verdict::Pass(format!("{} bytes answered", limit - 1)),
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str, is_error: bool) -> Value {
        json!({ "jsonrpc": "2.0", "id": 1, "result": { "content": [{ "type": "text", "text": t }], "isError": is_error } })
    }

    #[test]
    fn shapes_name_each_way_of_breaking_the_contract() {
        assert_eq!(
            Shape::of(&text(r#"{"data":"hi","error":null}"#, false)),
            Shape::Good { data: "hi".into() }
        );
        assert!(matches!(
            Shape::of(&text("boom", true)),
            Shape::PlainIsError(_)
        ));
        assert!(matches!(Shape::of(&text("boom", false)), Shape::NotJson(_)));
        assert!(matches!(
            Shape::of(&text("[1]", false)),
            Shape::NotObject(_)
        ));
        assert!(matches!(
            Shape::of(&text(r#"{"error":null}"#, false)),
            Shape::NoData(_)
        ));
        assert!(matches!(
            Shape::of(&text(r#"{"data":7,"error":null}"#, false)),
            Shape::DataNotString {
                found: "number",
                ..
            }
        ));
        assert!(matches!(
            Shape::of(&text(r#"{"data":"","error":5}"#, false)),
            Shape::ErrorWrongType {
                found: "number",
                ..
            }
        ));
        // A contract error answer with isError is still the contract.
        assert!(matches!(
            Shape::of(&text(r#"{"data":"","error":"quota"}"#, true)),
            Shape::Good { .. }
        ));
        assert!(matches!(
            Shape::of(&json!({ "id": 1, "error": { "code": -32603, "message": "x" } })),
            Shape::JsonRpcError(_)
        ));
        assert!(matches!(
            Shape::of(
                &json!({ "id": 1, "result": { "content": [{ "type": "image", "data": "" }] } })
            ),
            Shape::NoText(_)
        ));
    }
}
