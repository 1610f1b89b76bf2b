//! [`Received`]: a request a server received, as `server_expect` and fault targeting see it.

use serde_json::Value;

/// A request (or notification) a server received.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Received {
    /// The server-side connection, from 1 (numbered across the whole run).
    pub conn: u64,
    /// The method.
    pub method: String,
    /// For `tools/call`: the tool.
    pub tool: Option<String>,
    /// For `tools/call`: the arguments (`{}` when the request had none).
    pub arguments: Option<Value>,
}

impl Received {
    /// What a JSON-RPC message names: its method, and for `tools/call` its tool and arguments.
    /// `None` for a response (no `method`).
    pub fn of(conn: u64, message: &Value) -> Option<Self> {
        let method = message.get("method").and_then(Value::as_str)?;
        let params = message.get("params");
        let tool = (method == "tools/call")
            .then(|| params?.get("name")?.as_str().map(str::to_owned))
            .flatten();
        let arguments = tool.as_ref().map(|_| {
            params
                .and_then(|p| p.get("arguments"))
                .cloned()
                .unwrap_or(Value::Object(Default::default()))
        });
        Some(Self {
            conn,
            method: method.to_owned(),
            tool,
            arguments,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_call_names_its_tool_and_arguments() {
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": "hi"}}});
        let r = Received::of(3, &call).expect("a request");
        assert_eq!((r.conn, r.method.as_str()), (3, "tools/call"));
        assert_eq!(r.tool.as_deref(), Some("echo"));
        assert_eq!(r.arguments, Some(json!({"text": "hi"})));
    }

    #[test]
    fn other_requests_have_no_tool_and_responses_are_not_requests() {
        let ping = Received::of(1, &json!({"id": 2, "method": "ping"})).expect("a request");
        assert_eq!((ping.tool, ping.arguments), (None, None));
        let bare = Received::of(1, &json!({"id": 2, "method": "tools/call"})).expect("a request");
        assert_eq!(bare.tool, None, "a call without a name names no tool");
        assert!(Received::of(1, &json!({"id": 2, "result": {}})).is_none());
    }
}
