//! Answers: the handshake of either era, `tools/list`, and tool replies rendered from templates.

use serde_json::{Map, Value, json};

use crate::scenario::model::{JsonRpcErrorSpec, Reply, Tool};

/// Protocol versions the mock accepts in `initialize`; others get the latest.
const INITIALIZE_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
/// Everything the mock implements, as `server/discover` lists it.
const ALL_VERSIONS: [&str; 5] = [
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
    "2026-07-28",
];

pub(crate) fn server_info() -> Value {
    json!({ "name": "cattackle-mock", "version": "1" })
}

pub(crate) fn initialize_result(params: &Value) -> Value {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    let version = asked
        .filter(|v| INITIALIZE_VERSIONS.contains(v))
        .unwrap_or("2025-11-25");
    json!({
        "protocolVersion": version,
        "capabilities": { "tools": {} },
        "serverInfo": server_info(),
    })
}

pub(crate) fn discover_result() -> Value {
    json!({
        "resultType": "complete",
        "supportedVersions": ALL_VERSIONS,
        "capabilities": { "tools": {} },
        "ttlMs": 0,
        "cacheScope": "private",
        "_meta": { "io.modelcontextprotocol/serverInfo": server_info() },
    })
}

pub(crate) fn tools_list<'a>(tools: impl Iterator<Item = (&'a String, &'a Tool)>) -> Value {
    let tools: Vec<Value> = tools
        .map(|(name, tool)| {
            let mut listed = json!({ "name": name, "description": tool.description, "inputSchema": tool.input_schema });
            if let Some(annotations) = &tool.annotations {
                listed["annotations"] = annotations.clone();
            }
            listed
        })
        .collect();
    json!({ "tools": tools })
}

/// What a request is answered with, before faults.
pub(crate) enum Answer {
    Result(Value),
    Error(JsonRpcErrorSpec),
}

/// What templates can refer to.
pub(crate) struct Context<'a> {
    pub(crate) id: &'a Value,
    pub(crate) tool: &'a str,
    pub(crate) args: &'a Value,
    pub(crate) call: u32,
}

pub(crate) fn text_result(text: String, is_error: bool) -> Value {
    json!({ "content": [{ "type": "text", "text": text }], "isError": is_error })
}

pub(crate) fn answer(reply: &Reply, cx: &Context<'_>) -> Answer {
    match reply {
        Reply::Respond(v) => {
            let text = serde_json::to_string(&render(v, cx)).unwrap_or_default();
            Answer::Result(text_result(text, false))
        }
        Reply::Text(s) => Answer::Result(text_result(render_str(s, cx), false)),
        Reply::Result(v) => Answer::Result(render(v, cx)),
        Reply::JsonRpcError(e) => Answer::Error(JsonRpcErrorSpec {
            code: e.code,
            message: render_str(&e.message, cx),
            data: e.data.clone(),
        }),
        Reply::IsError(s) => Answer::Result(text_result(render_str(s, cx), true)),
    }
}

fn lookup(path: &str, cx: &Context<'_>) -> Value {
    let path = path.trim();
    match path {
        "id" => return cx.id.clone(),
        "tool" => return Value::from(cx.tool),
        "call" => return Value::from(cx.call),
        "args" => return cx.args.clone(),
        _ => {}
    }
    let Some(rest) = path.strip_prefix("args.") else {
        return Value::Null;
    };
    rest.split('.')
        .try_fold(cx.args, |v, key| v.get(key))
        .cloned()
        .unwrap_or(Value::Null)
}

fn render(value: &Value, cx: &Context<'_>) -> Value {
    match value {
        Value::String(s) => {
            if let Some(path) = s.strip_prefix("{{").and_then(|s| s.strip_suffix("}}"))
                && !path.contains("{{")
            {
                return lookup(path, cx);
            }
            Value::String(render_str(s, cx))
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| render(v, cx)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), render(v, cx)))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

fn render_str(text: &str, cx: &Context<'_>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        match lookup(&rest[start + 2..start + len], cx) {
            Value::String(s) => out.push_str(&s),
            Value::Null => {}
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// A message as bytes on the wire (no framing).
pub(crate) fn to_bytes(message: &Value) -> Vec<u8> {
    serde_json::to_vec(message).unwrap_or_default()
}

/// A JSON-RPC error response to `id`.
pub(crate) fn error_response(id: &Value, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut error = json!({ "code": code, "message": message });
    if let Some(data) = data {
        error["data"] = data;
    }
    json!({ "jsonrpc": "2.0", "id": id, "error": error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_take_values_from_the_request() {
        let args = json!({ "text": "hi", "extra": { "username": "ann" } });
        let cx = Context {
            id: &json!(7),
            tool: "echo",
            args: &args,
            call: 2,
        };
        let v = render(
            &json!({ "data": "{{args.text}}", "who": "{{args.extra.username}} #{{call}}", "all": "{{args}}", "n": "{{id}}" }),
            &cx,
        );
        assert_eq!(
            v,
            json!({ "data": "hi", "who": "ann #2", "all": args, "n": 7 })
        );
    }
}
