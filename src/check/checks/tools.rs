//! Tools: `tools/list` (every page), input schemas, the declared commands. (Unknown tools are
//! data: `src/check/pack/tools.yaml`.)

use serde_json::{Value, json};

use super::super::ctx::{Ctx, result_of};
use super::super::model::{Finding, Verdict};
use super::super::wire::Wire;
use super::one;

/// At most this many `tools/list` pages are followed.
const MAX_PAGES: usize = 100;

/// Every tool the server lists, following `nextCursor`; or a violation quoting the answer.
pub(crate) async fn list_all(
    ctx: &Ctx,
    wire: &std::sync::Arc<Wire>,
) -> Result<Vec<Value>, Verdict> {
    let mut tools = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let params = match &cursor {
            Some(c) => json!({ "cursor": c }),
            None => json!({}),
        };
        let frame = match wire.request("tools/list", params, ctx.bound()).await {
            Ok(frame) => frame,
            Err(e) => return Err(ctx.no_answer(wire, "`tools/list`", e).await),
        };
        let result = result_of(ctx, &frame, "`tools/list`")?;
        let Some(page) = result.get("tools").and_then(Value::as_array) else {
            return Err(Verdict::violated(
                "the `tools/list` result has no `tools` array",
                ctx.shown(&frame),
            ));
        };
        tools.extend(page.iter().cloned());
        match result.get("nextCursor").and_then(Value::as_str) {
            Some(next) if Some(next) == cursor.as_deref() => {
                return Err(Verdict::violated(
                    "`nextCursor` repeats the cursor it was asked with: the pages never end",
                    ctx.shown(&frame),
                ));
            }
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(tools),
        }
    }
    Err(Verdict::violated(
        format!("`tools/list` still had a `nextCursor` after {MAX_PAGES} pages"),
        format!("{} tools so far", tools.len()),
    ))
}

fn name_of(tool: &Value) -> &str {
    tool.get("name")
        .and_then(Value::as_str)
        .unwrap_or("<no name>")
}

/// Starts a session and lists the tools; skips when the server declares no tools.
async fn listed(ctx: &Ctx) -> Result<(std::sync::Arc<Wire>, Vec<Value>), Verdict> {
    let started = ctx.start().await?;
    if started.result.pointer("/capabilities/tools").is_none() && !ctx.target.cattackle {
        return Err(Verdict::Skip(
            "the server declares no `tools` capability".to_owned(),
        ));
    }
    let tools = list_all(ctx, &started.wire).await?;
    Ok((started.wire, tools))
}

/// `tools/list` answers, every page, and every tool has a name.
pub(crate) async fn list(ctx: Ctx) -> Vec<Finding> {
    let (wire, tools) = match listed(&ctx).await {
        Ok(listed) => listed,
        Err(v) => return one(v),
    };
    wire.close(ctx.grace()).await;
    let nameless = tools
        .iter()
        .filter(|t| t.get("name").and_then(Value::as_str).is_none())
        .count();
    one(if nameless > 0 {
        Verdict::violated(
            format!("{nameless} listed tool(s) have no `name`"),
            format!("{} tools", tools.len()),
        )
    } else {
        let names: Vec<&str> = tools.iter().map(name_of).collect();
        Verdict::Pass(format!("{} tool(s): {}", names.len(), names.join(", ")))
    })
}

/// Every tool has an `inputSchema`: a JSON Schema object (checked against the meta-schema)
/// whose `type` is `object`.
pub(crate) async fn input_schema(ctx: Ctx) -> Vec<Finding> {
    let (wire, tools) = match listed(&ctx).await {
        Ok(listed) => listed,
        Err(v) => return one(v),
    };
    wire.close(ctx.grace()).await;
    if tools.is_empty() {
        return one(Verdict::Skip("the server lists no tools".to_owned()));
    }
    tools
        .iter()
        .map(|tool| Finding {
            subject: Some(name_of(tool).to_owned()),
            verdict: schema_verdict(&ctx, tool),
        })
        .collect()
}

fn schema_verdict(ctx: &Ctx, tool: &Value) -> Verdict {
    let Some(schema) = tool.get("inputSchema") else {
        return Verdict::violated("the tool has no `inputSchema`", ctx.shown(tool));
    };
    if !schema.is_object() {
        return Verdict::violated("`inputSchema` is not an object", ctx.shown(schema));
    }
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Verdict::violated(
            "`inputSchema.type` is not \"object\" (MCP requires an object schema)",
            ctx.shown(schema),
        );
    }
    match jsonschema::meta::validate(schema) {
        Ok(()) => Verdict::Pass("a valid JSON Schema object".to_owned()),
        Err(e) => Verdict::violated(
            format!("`inputSchema` is not a valid JSON Schema: {e}"),
            ctx.shown(schema),
        ),
    }
}

/// Every command of the `cattackle.toml` is listed.
pub(crate) async fn list_matches_commands(ctx: Ctx) -> Vec<Finding> {
    let (wire, tools) = match listed(&ctx).await {
        Ok(listed) => listed,
        Err(v) => return one(v),
    };
    wire.close(ctx.grace()).await;
    let names: Vec<&str> = tools.iter().map(name_of).collect();
    ctx.commands()
        .into_iter()
        .map(|command| {
            let verdict = if names.contains(&command.as_str()) {
                Verdict::Pass("listed".to_owned())
            } else {
                Verdict::violated(
                    format!("declared in cattackle.toml, but the server does not list a tool `{command}`"),
                    format!("listed: {}", names.join(", ")),
                )
            };
            Finding {
                subject: Some(command),
                verdict,
            }
        })
        .collect()
}

/// Tools listed but not declared in the `cattackle.toml` (the core cannot route to them).
pub(crate) async fn undeclared(ctx: Ctx) -> Vec<Finding> {
    let (wire, tools) = match listed(&ctx).await {
        Ok(listed) => listed,
        Err(v) => return one(v),
    };
    wire.close(ctx.grace()).await;
    let commands = ctx.commands();
    let extra: Vec<&str> = tools
        .iter()
        .map(name_of)
        .filter(|n| !commands.iter().any(|c| c == n))
        .collect();
    one(if extra.is_empty() {
        Verdict::Pass("every listed tool is declared".to_owned())
    } else {
        Verdict::violated(
            format!(
                "listed but not declared in cattackle.toml (the core cannot route to them): {}",
                extra.join(", ")
            ),
            format!("declared: {}", commands.join(", ")),
        )
    })
}
