//! Parsing a `CallToolResult` into the `{"data", "error"}` contract (section 3).

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;

use super::CattackleError;
use super::error::{quote, shown};
use super::payload::json_type;

/// What a cattackle answered: its `data` and `error`, and the MCP `isError` flag (which the
/// original ignored).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CattackleResponse {
    /// The answer text; `""` when absent.
    pub data: String,
    /// The cattackle's error, `None` when absent or `null`; `Some("")` is kept as given.
    pub error: Option<String>,
    /// MCP `isError`.
    pub is_error: bool,
    /// The answer had no `data` key (the contract reads that as `""`; callers may warn).
    #[serde(skip)]
    pub data_missing: bool,
}

impl CattackleResponse {
    /// Whether the cattackle reported a failure: a non-empty `error` or `isError: true`.
    pub fn has_error(&self) -> bool {
        self.is_error || self.error.as_deref().is_some_and(|e| !e.is_empty())
    }
}

/// Message of an empty `content`, as the original.
pub const EMPTY_RESPONSE: &str = "Empty response from cattackle";

/// Parses a `tools/call` result the way the original does, with its fixes: a non-object JSON
/// value and a non-text first block are response errors (not retried), and `isError: true`
/// with a plain-text message is a [`CattackleError::Tool`] carrying that text. Errors quote
/// what came back (cut to about 200 characters).
pub fn parse_call_result(
    cattackle: &str,
    result: &CallToolResult,
) -> Result<CattackleResponse, CattackleError> {
    parse_redacted(cattackle, result, &Vec::new)
}

/// [`parse_call_result`], with `secrets` (the configuration's env and header values) redacted
/// from every quoted text. They are asked for only when an error quotes the answer: a good
/// answer costs nothing.
pub(crate) fn parse_redacted(
    cattackle: &str,
    result: &CallToolResult,
    secrets: &dyn Fn() -> Vec<String>,
) -> Result<CattackleResponse, CattackleError> {
    let is_error = result.is_error.unwrap_or(false);
    let invalid = |detail: String| CattackleError::InvalidResponse {
        cattackle: cattackle.to_owned(),
        detail,
    };
    let Some(first) = result.content.first() else {
        return Ok(CattackleResponse {
            data: String::new(),
            error: Some(EMPTY_RESPONSE.to_owned()),
            is_error,
            data_missing: false,
        });
    };
    let Some(text) = first.as_text().map(|t| t.text.as_str()) else {
        return Err(invalid(format!(
            "the first content block is {}, expected text",
            block_kind(first)
        )));
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => {
            let lower = text.to_lowercase();
            if lower.contains("validation error") || lower.contains("required property") {
                return Err(CattackleError::Validation {
                    cattackle: cattackle.to_owned(),
                    text: text.to_owned(),
                });
            }
            if is_error {
                return Err(CattackleError::Tool {
                    cattackle: cattackle.to_owned(),
                    text: shown(text, &secrets()),
                });
            }
            return Err(CattackleError::InvalidJson {
                cattackle: cattackle.to_owned(),
                detail: format!("{e}; it sent {}", quote(text, &secrets())),
            });
        }
    };
    let Value::Object(object) = value else {
        return Err(invalid(format!(
            "expected a JSON object with `data` and `error`, found {}: {}",
            json_type(&value),
            quote(text, &secrets())
        )));
    };
    let data = match object.get("data") {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(invalid(format!(
                "`data` must be a string, found {}: {}",
                json_type(other),
                quote(text, &secrets())
            )));
        }
    };
    let error = match object.get("error") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(invalid(format!(
                "`error` must be a string or null, found {}: {}",
                json_type(other),
                quote(text, &secrets())
            )));
        }
    };
    Ok(CattackleResponse {
        data,
        error,
        is_error,
        data_missing: !object.contains_key("data"),
    })
}

fn block_kind(block: &ContentBlock) -> &'static str {
    match block {
        ContentBlock::Text(_) => "text",
        ContentBlock::Image(_) => "an image",
        ContentBlock::Audio(_) => "audio",
        ContentBlock::Resource(_) => "an embedded resource",
        ContentBlock::ResourceLink(_) => "a resource link",
        _ => "not text",
    }
}

#[cfg(test)]
mod tests {
    use rmcp::model::{CallToolResult, ContentBlock};

    use super::*;

    fn text_result(text: &str, is_error: bool) -> CallToolResult {
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.is_error = Some(is_error);
        result
    }

    #[test]
    fn quoted_server_text_never_carries_a_secret_of_the_configuration() {
        let secrets = vec!["tok-123".to_owned()];
        let cases = [
            text_result("not json, token tok-123", false),
            text_result(r#"{"data": 5, "echo": "tok-123"}"#, false),
            text_result("Error executing tool: bad token tok-123", true),
        ];
        for result in &cases {
            let error = parse_redacted("cat", result, &|| secrets.clone())
                .unwrap_err()
                .to_string();
            assert!(!error.contains("tok-123"), "{error}");
            assert!(error.contains("[redacted]"), "{error}");
        }
    }

    #[test]
    fn a_secret_is_redacted_before_the_cut() {
        let secret = "s".repeat(30);
        let text = format!("{}{secret}", "x".repeat(190));
        let error = parse_redacted("cat", &text_result(&text, false), &|| vec![secret.clone()])
            .unwrap_err()
            .to_string();
        assert!(
            !error.contains(&secret[..10]),
            "no start of the secret is left: {error}"
        );
    }
}
