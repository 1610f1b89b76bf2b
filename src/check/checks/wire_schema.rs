//! Wire schema: every frame the server sends, through a session that does the handshake, a
//! ping, `tools/list` and one call per command, is the MCP message expected.

use serde_json::json;

use super::super::ctx::Ctx;
use super::super::model::{Finding, Verdict};
use super::one;

/// Every frame parses as the MCP message type expected for the method it answers.
pub(crate) async fn schema(ctx: Ctx) -> Vec<Finding> {
    let started = start_or!(ctx);
    let wire = started.wire.clone();
    let _ = ctx.survives(&wire).await;
    let _ = wire.request("tools/list", json!({}), ctx.bound()).await;
    for command in ctx.commands() {
        let _ = ctx
            .call(&wire, &command, ctx.payload("cattackle check: schema"))
            .await;
    }
    let problems = wire.schema_problems();
    let frames = wire.frames().len();
    wire.close(ctx.grace()).await;
    one(if problems.is_empty() {
        Verdict::Pass(format!("{frames} frame(s), each the message expected"))
    } else {
        Verdict::Violated {
            message: format!(
                "{} frame(s) are not the MCP message expected",
                problems.len()
            ),
            evidence: problems
                .iter()
                .map(|p| ctx.target.redact(p))
                .take(5)
                .collect(),
        }
    })
}
