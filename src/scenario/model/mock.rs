//! The scripted server: its tools and how each answers.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// The scripted MCP server.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MockSpec {
    /// The tools it lists and how they answer. Default: one tool per command of the cattackle
    /// configuration, each answering `{"data": "{{args.text}}", "error": null}`.
    #[serde(default)]
    pub tools: BTreeMap<String, Tool>,
    /// Which handshakes it answers. Default both: `2025` (`initialize`) and `2026`
    /// (`server/discover`).
    #[serde(default)]
    pub eras: Vec<Era>,
    /// How the HTTP mock answers a request: `json` (default, `application/json`) or `sse` (a
    /// `text/event-stream` with one `message` event), as most SDK servers do.
    #[serde(default)]
    pub http_body: HttpBody,
}

/// The body of the HTTP mock's answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HttpBody {
    /// `application/json`.
    #[default]
    Json,
    /// `text/event-stream`, one `message` event.
    Sse,
}

/// A spec era of the MCP handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Era {
    /// `initialize` + `notifications/initialized` (2025-06-18, 2025-11-25).
    #[serde(rename = "2025")]
    Initialize,
    /// `server/discover` (2026-07-28).
    #[serde(rename = "2026")]
    Discover,
    /// Answers `server/discover` with an empty `{}` result instead of a discover result, as
    /// the official conformance suite's scenario servers do (they know only `initialize`).
    #[serde(rename = "2026-empty-result")]
    EmptyDiscover,
}

/// One tool of the mock.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "ToolSpec")]
pub struct Tool {
    /// Listed in `tools/list`.
    pub description: String,
    /// Listed in `tools/list`.
    pub input_schema: Value,
    /// Listed in `tools/list` when set: `{ idempotentHint, readOnlyHint, destructiveHint, … }`.
    pub annotations: Option<Value>,
    /// Answers in order; the last one repeats. Never empty (see [`Tool::reply`]).
    replies: Vec<Reply>,
}

/// How a tool answers one call. Strings may use `{{args.PATH}}`, `{{id}}`, `{{call}}` (the
/// 1-based call number of this tool) and `{{tool}}`.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// A cattackle response: the value is serialized as JSON into one text block.
    Respond(Value),
    /// One text block, as is.
    Text(String),
    /// A raw `CallToolResult` (`content`, `isError`, `structuredContent`).
    Result(Value),
    /// A JSON-RPC error instead of a result.
    JsonRpcError(JsonRpcErrorSpec),
    /// A result with `isError: true` and this text.
    IsError(String),
}

/// A JSON-RPC error object.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonRpcErrorSpec {
    /// The error code, e.g. -32603.
    pub code: i64,
    /// The message.
    pub message: String,
    /// Optional data.
    #[serde(default)]
    pub data: Option<Value>,
}

/// One reply, as written: exactly one key.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplySpec {
    /// A cattackle response, serialized into one text block: `{ data: "{{args.text}}", error: null }`.
    #[serde(default, deserialize_with = "super::step::present")]
    respond: Option<Value>,
    /// One text block, as is.
    #[serde(default)]
    text: Option<String>,
    /// A raw `CallToolResult`.
    #[serde(default)]
    result: Option<Value>,
    /// A JSON-RPC error.
    #[serde(default)]
    jsonrpc_error: Option<JsonRpcErrorSpec>,
    /// A result with `isError: true` and this text.
    #[serde(default)]
    is_error: Option<String>,
}

impl ReplySpec {
    fn candidates(self) -> Vec<(&'static str, Option<Reply>)> {
        vec![
            ("respond", self.respond.map(Reply::Respond)),
            ("text", self.text.map(Reply::Text)),
            ("result", self.result.map(Reply::Result)),
            ("jsonrpc_error", self.jsonrpc_error.map(Reply::JsonRpcError)),
            ("is_error", self.is_error.map(Reply::IsError)),
        ]
    }
}

impl TryFrom<ReplySpec> for Reply {
    type Error = String;

    fn try_from(spec: ReplySpec) -> Result<Self, String> {
        super::required_action("reply", spec.candidates())
    }
}

// It repeats `ReplySpec`'s keys rather than flattening it: serde cannot deny unknown keys through
// `flatten`, and a typo must be an error that names the nearest key.
/// A tool, as written.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ToolSpec {
    /// Listed in `tools/list`.
    #[serde(default)]
    description: Option<String>,
    /// Listed in `tools/list`. Default `{"type": "object"}`.
    #[serde(default)]
    input_schema: Option<Value>,
    /// Listed in `tools/list` when set: `{ idempotentHint: false, destructiveHint: true }`.
    #[serde(default)]
    annotations: Option<Value>,
    /// Replies in order ("fail twice, then succeed"); the last one repeats.
    #[serde(default)]
    sequence: Option<Vec<ReplySpec>>,
    /// A cattackle response, serialized into one text block: `{ data: "{{args.text}}", error: null }`.
    #[serde(default, deserialize_with = "super::step::present")]
    respond: Option<Value>,
    /// One text block, as is.
    #[serde(default)]
    text: Option<String>,
    /// A raw `CallToolResult`.
    #[serde(default)]
    result: Option<Value>,
    /// A JSON-RPC error.
    #[serde(default)]
    jsonrpc_error: Option<JsonRpcErrorSpec>,
    /// A result with `isError: true` and this text.
    #[serde(default)]
    is_error: Option<String>,
}

/// What a tool answers without a reply of its own.
static DEFAULT_REPLY: std::sync::LazyLock<Reply> = std::sync::LazyLock::new(default_reply);

/// What a tool with no reply answers.
pub(crate) fn default_reply() -> Reply {
    Reply::Respond(serde_json::json!({ "data": "{{args.text}}", "error": null }))
}

impl Tool {
    /// How the tool answers its `call`-th call (from 1): that reply of the sequence, the last
    /// one once the sequence is used up.
    pub fn reply(&self, call: u32) -> &Reply {
        let index = (call as usize).saturating_sub(1);
        // Never empty by construction; the default reply would only stand in for a bug.
        self.replies
            .get(index)
            .or(self.replies.last())
            .unwrap_or(&DEFAULT_REPLY)
    }

    /// A tool answering the default reply.
    pub fn with_default_reply(description: String) -> Self {
        Self {
            description,
            input_schema: serde_json::json!({ "type": "object" }),
            annotations: None,
            replies: vec![default_reply()],
        }
    }
}

impl TryFrom<ToolSpec> for Tool {
    type Error = String;

    fn try_from(spec: ToolSpec) -> Result<Self, String> {
        let single = ReplySpec {
            respond: spec.respond,
            text: spec.text,
            result: spec.result,
            jsonrpc_error: spec.jsonrpc_error,
            is_error: spec.is_error,
        }
        .candidates();
        let single = super::one_action("tool", single)?;
        let replies = match (single, spec.sequence) {
            (Some(_), Some(_)) => {
                return Err("a tool has either one reply or a `sequence`, not both".to_owned());
            }
            (Some(reply), None) => vec![reply],
            (None, Some(sequence)) if sequence.is_empty() => {
                return Err("`sequence` needs at least one reply".to_owned());
            }
            (None, Some(sequence)) => sequence
                .into_iter()
                .map(Reply::try_from)
                .collect::<Result<_, _>>()?,
            (None, None) => vec![default_reply()],
        };
        Ok(Self {
            description: spec.description.unwrap_or_default(),
            input_schema: spec
                .input_schema
                .unwrap_or_else(|| serde_json::json!({ "type": "object" })),
            annotations: spec.annotations,
            replies,
        })
    }
}

super::schema_of_spec!(Tool, ToolSpec);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_go_in_order_and_the_last_repeats() {
        let tool: Tool = serde_yaml::from_str("sequence:\n  - text: one\n  - text: two\n").unwrap();
        let texts: Vec<_> = (0..=4).map(|call| tool.reply(call).clone()).collect();
        assert_eq!(texts[0], texts[1], "call 0 is read as the first");
        assert_ne!(texts[1], texts[2]);
        assert_eq!(texts[2], texts[4], "the last reply repeats");
        let empty: Result<Tool, _> = serde_yaml::from_str("sequence: []\n");
        assert!(empty.is_err(), "a tool always has a reply");
    }
}
