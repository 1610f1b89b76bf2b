//! The reference cattackle: the original Python echo cattackle's tools over MCP.
//!
//! Every tool answers one text block holding `{"data": "<string>", "error": "<string>" | null}`.

mod tools;

pub use tools::{EchoCattackle, echo_text, joke_text, ping_text};
