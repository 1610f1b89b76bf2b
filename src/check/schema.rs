//! Whether a frame the server sent is the MCP message expected: each result deserialized
//! strictly into rmcp's model type for the method it answers, errors and notifications checked
//! for their required fields.

use serde_json::Value;

/// What is wrong with `message`, an answer to a request of `method` (if known); `None` if
/// nothing is.
pub(crate) fn problem(method: Option<&str>, message: &Value) -> Option<String> {
    if let Some(error) = message.get("error") {
        let code = error.get("code").is_some_and(Value::is_i64);
        let text = error.get("message").is_some_and(Value::is_string);
        return (!(code && text))
            .then(|| "an error without an integer `code` and a string `message`".to_owned());
    }
    if let Some(result) = message.get("result") {
        let typed = match method? {
            "initialize" => parse::<rmcp::model::InitializeResult>(result),
            "tools/list" => parse::<rmcp::model::ListToolsResult>(result),
            "tools/call" => parse::<rmcp::model::CallToolResult>(result),
            _ if !result.is_object() => Err("the result is not an object".to_owned()),
            _ => Ok(()),
        };
        return typed
            .err()
            .map(|e| format!("the `{}` result does not parse: {e}", method.unwrap_or("?")));
    }
    if message.get("method").is_some() {
        let params = message.get("params");
        if params.is_some_and(|p| !p.is_object()) {
            return Some("`params` is not an object".to_owned());
        }
        return None;
    }
    None
}

fn parse<T: serde::de::DeserializeOwned>(value: &Value) -> Result<(), String> {
    serde_json::from_value::<T>(value.clone())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_are_read_as_the_method_they_answer() {
        let good = json!({ "result": { "protocolVersion": "2025-11-25", "capabilities": {}, "serverInfo": { "name": "s", "version": "1" } } });
        assert_eq!(problem(Some("initialize"), &good), None);
        let no_info = json!({ "result": { "protocolVersion": "2025-11-25", "capabilities": {} } });
        assert!(
            problem(Some("initialize"), &no_info)
                .unwrap()
                .contains("serverInfo")
        );
        let bad_tools = json!({ "result": { "tools": [{ "name": 5 }] } });
        assert!(problem(Some("tools/list"), &bad_tools).is_some());
        assert_eq!(problem(Some("ping"), &json!({ "result": {} })), None);
        assert!(problem(Some("ping"), &json!({ "result": 1 })).is_some());
        assert!(problem(None, &json!({ "error": { "code": "x" } })).is_some());
        assert_eq!(
            problem(
                None,
                &json!({ "error": { "code": -32601, "message": "no" } })
            ),
            None
        );
    }
}
