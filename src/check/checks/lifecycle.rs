//! Lifecycle: the handshake and version negotiation, `server/discover`. (`ping`, unknown methods
//! and malformed messages are data: `src/check/pack/lifecycle.yaml`.)

use serde_json::{Value, json};

use super::super::ctx::{Ctx, Era, KNOWN_VERSIONS, initialize_params};
use super::super::model::{Finding, Verdict};
use super::one;

/// `initialize` (or `server/discover`) is answered with a result of the right shape.
pub(crate) async fn initialize(ctx: Ctx) -> Vec<Finding> {
    let started = start_or!(ctx);
    let result = &started.result;
    let version = match ctx.options.era {
        Era::Discover => result
            .get("supportedVersions")
            .and_then(Value::as_array)
            .map(|v| format!("{v:?}")),
        _ => result
            .get("protocolVersion")
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    let capabilities = result.get("capabilities").is_some_and(Value::is_object);
    one(match (version, capabilities) {
        (Some(version), true) => Verdict::Pass(format!("answered, protocol {version}")),
        (None, _) => Verdict::violated(
            "the handshake result has no protocol version (`protocolVersion`, or `supportedVersions` for server/discover)",
            ctx.shown(&started.frame),
        ),
        (_, false) => Verdict::violated(
            "the handshake result has no `capabilities` object",
            ctx.shown(&started.frame),
        ),
    })
}

/// The answered version is the offered one or one the server supports; an unknown offer is
/// answered with a known version, or an error, never echoed back.
pub(crate) async fn version_negotiation(ctx: Ctx) -> Vec<Finding> {
    if ctx.options.era == Era::Discover {
        return one(Verdict::Skip(
            "server/discover has no negotiation: the client picks from supportedVersions"
                .to_owned(),
        ));
    }
    let offered = ctx.options.era.offered();
    let started = start_or!(ctx);
    let answered = started
        .result
        .get("protocolVersion")
        .and_then(Value::as_str);
    match answered {
        Some(v) if v == offered || KNOWN_VERSIONS.contains(&v) => {}
        other => {
            return one(Verdict::violated(
                format!(
                    "offered {offered}, answered {}: a version the client never offered and that no MCP spec defines",
                    other.unwrap_or("nothing")
                ),
                ctx.shown(&started.frame),
            ));
        }
    }
    started.wire.close(ctx.grace()).await;
    // A version from the future: the server must answer with one it supports.
    let bogus = "1999-01-01";
    let wire = match ctx.connect().await {
        Ok(wire) => wire,
        Err(v) => return one(v),
    };
    let frame = match wire
        .request("initialize", initialize_params(bogus), ctx.bound())
        .await
    {
        Ok(frame) => frame,
        Err(e) => {
            return one(ctx
                .no_answer(&wire, "`initialize` offering an unknown version", e)
                .await);
        }
    };
    wire.close(ctx.grace()).await;
    let verdict = match frame
        .pointer("/result/protocolVersion")
        .and_then(Value::as_str)
    {
        Some(v) if v == bogus => Verdict::violated(
            format!("offered the unknown version {bogus}, and the server accepted it"),
            ctx.shown(&frame),
        ),
        Some(v) if KNOWN_VERSIONS.contains(&v) => Verdict::Pass(format!(
            "offered {offered}: answered {}; offered {bogus}: answered {v}",
            answered.unwrap_or_default()
        )),
        Some(v) => Verdict::violated(
            format!("offered {bogus}, answered {v}, which no MCP spec defines"),
            ctx.shown(&frame),
        ),
        None if frame.get("error").is_some() => Verdict::Pass(format!(
            "offered {offered}: answered {}; offered {bogus}: refused with an error",
            answered.unwrap_or_default()
        )),
        None => Verdict::violated(
            "the answer to `initialize` has no protocolVersion",
            ctx.shown(&frame),
        ),
    };
    one(verdict)
}

/// `serverInfo` (`_meta` `io.modelcontextprotocol/serverInfo` for discover) names the server.
pub(crate) async fn server_info(ctx: Ctx) -> Vec<Finding> {
    let started = start_or!(ctx);
    let info = started.result.get("serverInfo").or_else(|| {
        started
            .result
            .pointer("/_meta/io.modelcontextprotocol~1serverInfo")
    });
    let name = info.and_then(|i| i.get("name")).and_then(Value::as_str);
    let version = info.and_then(|i| i.get("version")).and_then(Value::as_str);
    started.wire.close(ctx.grace()).await;
    one(match (name, version) {
        (Some(name), Some(version)) => Verdict::Pass(format!("{name} {version}")),
        _ => Verdict::violated(
            "the handshake result has no `serverInfo` with a `name` and a `version`",
            ctx.shown(&started.frame),
        ),
    })
}

/// The capabilities declare `tools` (a cattackle must; another server may not, and then the
/// tools checks are skipped).
pub(crate) async fn capabilities_tools(ctx: Ctx) -> Vec<Finding> {
    let started = start_or!(ctx);
    started.wire.close(ctx.grace()).await;
    let tools = started.result.pointer("/capabilities/tools").is_some();
    one(match (tools, ctx.target.cattackle) {
        (true, _) => Verdict::Pass("`capabilities.tools` is declared".to_owned()),
        (false, true) => Verdict::violated(
            "a cattackle must declare the `tools` capability: the core calls its commands as tools",
            ctx.shown(&started.frame),
        ),
        (false, false) => Verdict::Skip("the server declares no `tools` capability".to_owned()),
    })
}

/// `server/discover` answers with the versions the server supports (2026-07-28).
pub(crate) async fn discover(ctx: Ctx) -> Vec<Finding> {
    let wire = match ctx.connect().await {
        Ok(wire) => wire,
        Err(v) => return one(v),
    };
    wire.stamp_version("2026-07-28");
    let frame = match wire
        .request("server/discover", json!({}), ctx.bound())
        .await
    {
        Ok(frame) => frame,
        Err(e) if ctx.options.era != Era::Discover => {
            wire.close(ctx.grace()).await;
            return one(Verdict::Skip(format!(
                "the server did not answer server/discover ({e}): it does not speak 2026-07-28"
            )));
        }
        Err(e) => return one(ctx.no_answer(&wire, "`server/discover`", e).await),
    };
    wire.close(ctx.grace()).await;
    let versions = frame
        .pointer("/result/supportedVersions")
        .and_then(Value::as_array);
    one(match (versions, frame.get("error")) {
        (Some(v), _) if v.iter().any(|v| v.as_str() == Some("2026-07-28")) => {
            Verdict::Pass(format!("supportedVersions {}", Value::Array(v.clone())))
        }
        (Some(_), _) => Verdict::violated(
            "server/discover's supportedVersions does not include 2026-07-28",
            ctx.shown(&frame),
        ),
        (None, Some(_)) if ctx.options.era != Era::Discover => Verdict::Skip(
            "the server answered server/discover with an error: it does not speak 2026-07-28"
                .to_owned(),
        ),
        _ => Verdict::violated(
            "server/discover was not answered with supportedVersions",
            ctx.shown(&frame),
        ),
    })
}
