//! WebSocket: the `mcp` subprotocol, one JSON-RPC message per text frame.

use serde_json::json;

use super::super::ctx::Ctx;
use super::super::model::{Finding, Verdict};
use super::super::wire::FrameKind;
use super::one;

/// The server echoes the `mcp` subprotocol the client asks for.
pub(crate) async fn subprotocol(ctx: Ctx) -> Vec<Finding> {
    let started = start_or!(ctx);
    let answered = started.wire.subprotocol();
    started.wire.close(ctx.grace()).await;
    one(match answered.as_deref() {
        Some("mcp") => Verdict::Pass("`mcp`".to_owned()),
        other => Verdict::violated(
            "the server did not answer with the `mcp` subprotocol the client asked for",
            format!("Sec-WebSocket-Protocol: {}", other.unwrap_or("(none)")),
        ),
    })
}

/// Every frame is a text frame holding one JSON-RPC message (no binary frames, no batches).
pub(crate) async fn text_frames(ctx: Ctx) -> Vec<Finding> {
    let started = start_or!(ctx);
    let _ = started
        .wire
        .request("tools/list", json!({}), ctx.bound())
        .await;
    let _ = ctx.survives(&started.wire).await;
    let frames = started.wire.frames();
    started.wire.close(ctx.grace()).await;
    let bad: Vec<String> = frames
        .iter()
        .filter(|f| {
            matches!(
                f.kind,
                FrameKind::Binary | FrameKind::NotJson | FrameKind::NotJsonRpc
            )
        })
        .map(|f| ctx.target.redact(&f.text))
        .collect();
    one(if bad.is_empty() {
        Verdict::Pass(format!("{} text frame(s), one message each", frames.len()))
    } else {
        Verdict::Violated {
            message: format!(
                "{} frame(s) are not one JSON-RPC message in a text frame",
                bad.len()
            ),
            evidence: bad.into_iter().take(5).collect(),
        }
    })
}
