//! stdio hygiene: nothing but JSON-RPC on stdout, exit on stdin EOF, nothing left of the
//! process group.

use serde_json::json;

use super::super::ctx::Ctx;
use super::super::model::{Finding, Verdict};
use super::super::wire::{Frame, FrameKind};
use super::one;

/// Runs a session through the handshake, a `tools/list`, one call per command and a close,
/// and returns its frames.
async fn exercised(ctx: &Ctx) -> Result<Vec<Frame>, Verdict> {
    let started = ctx.start().await?;
    let wire = started.wire;
    let _ = wire.request("tools/list", json!({}), ctx.bound()).await;
    for command in ctx.commands() {
        let _ = ctx
            .call(&wire, &command, ctx.payload("cattackle check: stdout"))
            .await;
    }
    // A last round trip, so that what the calls printed has arrived.
    let _ = ctx.survives(&wire).await;
    let frames = wire.frames();
    wire.close(ctx.grace()).await;
    Ok(frames)
}

fn stray(frames: &[Frame], after: bool) -> Vec<&Frame> {
    frames
        .iter()
        .filter(|f| {
            f.after_handshake == after
                && matches!(f.kind, FrameKind::NotJson | FrameKind::NotJsonRpc)
        })
        .collect()
}

fn quoted(ctx: &Ctx, lines: &[&Frame]) -> Vec<String> {
    lines
        .iter()
        .take(5)
        .map(|f| ctx.target.redact(&f.text))
        .collect()
}

/// No line on stdout once the handshake is done is anything but JSON-RPC (logs go to stderr).
pub(crate) async fn stdout_clean(ctx: Ctx) -> Vec<Finding> {
    let frames = match exercised(&ctx).await {
        Ok(frames) => frames,
        Err(v) => return one(v),
    };
    let lines = stray(&frames, true);
    one(if lines.is_empty() {
        Verdict::Pass(format!("{} frame(s), all JSON-RPC", frames.len()))
    } else {
        Verdict::Violated {
            message: format!(
                "{} line(s) on stdout after the handshake are not JSON-RPC: a client may drop them, or fail; write logs to stderr",
                lines.len()
            ),
            evidence: quoted(&ctx, &lines),
        }
    })
}

/// No banner on stdout before the handshake (the manager skips it; stricter clients fail).
pub(crate) async fn no_banner(ctx: Ctx) -> Vec<Finding> {
    let frames = match exercised(&ctx).await {
        Ok(frames) => frames,
        Err(v) => return one(v),
    };
    let lines = stray(&frames, false);
    one(if lines.is_empty() {
        Verdict::Pass("nothing before the handshake".to_owned())
    } else {
        Verdict::Violated {
            message: format!(
                "{} line(s) on stdout before the handshake are not JSON-RPC",
                lines.len()
            ),
            evidence: quoted(&ctx, &lines),
        }
    })
}

/// The server exits within `shutdown_grace` once its stdin is closed.
pub(crate) async fn exits_on_eof(ctx: Ctx) -> Vec<Finding> {
    let started = start_or!(ctx);
    let closed = started.wire.close(ctx.grace()).await;
    one(match closed.exited_after {
        Some(took) => Verdict::Pass(format!(
            "exited {:.0} ms after stdin closed",
            took.as_secs_f64() * 1000.0
        )),
        None => Verdict::violated(
            format!(
                "still running {:.1}s (shutdown_grace) after stdin closed: the core will kill it",
                ctx.grace().as_secs_f64()
            ),
            "stdin EOF is how a client ends a stdio session (MCP lifecycle: shutdown)",
        ),
    })
}

/// Once it exited, no process of its process group is left (a grandchild it started).
pub(crate) async fn no_orphans(ctx: Ctx) -> Vec<Finding> {
    let started = start_or!(ctx);
    // Let it start whatever it starts.
    let _ = ctx.survives(&started.wire).await;
    let closed = started.wire.close(ctx.grace()).await;
    one(if closed.left_behind.is_empty() {
        Verdict::Pass("nothing left of its process group".to_owned())
    } else {
        Verdict::violated(
            format!(
                "{} process(es) of its group still ran after it was closed (killed now)",
                closed.left_behind.len()
            ),
            format!("pids {:?}", closed.left_behind),
        )
    })
}
