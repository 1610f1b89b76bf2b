//! The reference cattackle: the original Python echo cattackle's tools over MCP, served over
//! stdio, WebSocket or Streamable HTTP.
//!
//! Every tool answers one text block holding `{"data": "<string>", "error": "<string>" | null}`.

mod serve;
mod tools;

pub use serve::{
    MCP_PATH, http_app, serve_http, serve_http_with, serve_websocket, serve_websocket_with,
};
pub use tools::{EchoCattackle, echo_text, joke_text, ping_text};
