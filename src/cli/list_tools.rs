//! `cattackle list --tools`: each cattackle asked for its tools, the declared commands shown
//! beside what the server lists and hints.

use cattackle_harness::config::CattackleConfig;
use cattackle_harness::manager::{CattackleError, McpClientManager};
use cattackle_harness::transport::DefaultConnector;
use rmcp::model::Tool;

use super::exit::of_error;
use super::program_dirs;

/// Asks every cattackle for its tools, all at once (each bounded by its own `timeout`), then
/// closes their sessions.
pub(crate) async fn ask_all(configs: &[CattackleConfig]) -> Vec<Result<Vec<Tool>, CattackleError>> {
    let manager =
        McpClientManager::with_connector(DefaultConnector::with_program_dirs(program_dirs()));
    let asks = configs.iter().map(|c| manager.list_tools(c));
    let listed = futures::future::join_all(asks).await;
    for c in configs {
        manager.close_session(&c.name, c.mcp.shutdown_grace).await;
    }
    listed
}

/// Prints the cattackle's commands with what its server said; `Err` with the exit code when it
/// could not be asked.
pub(crate) fn print(
    config: &CattackleConfig,
    listed: &Result<Vec<Tool>, CattackleError>,
) -> Result<(), u8> {
    let tools = match listed {
        Ok(tools) => tools,
        Err(e) => {
            for (command, info) in &config.commands {
                println!("  /{}_{command}  {}", config.name, info.description);
            }
            println!("  (its tools could not be listed: {})", e.summary());
            eprintln!("error: {e}");
            return Err(of_error(e));
        }
    };
    for (command, info) in &config.commands {
        let tool = tools.iter().find(|t| t.name == *command);
        let retried = if info.idempotent {
            "retried after a timeout"
        } else {
            "idempotent = false: not retried after a timeout"
        };
        let server = match tool {
            None => "NOT LISTED by the server".to_owned(),
            Some(tool) => match hints(tool) {
                h if h.is_empty() => "listed, no hints".to_owned(),
                h => format!("listed, hints: {h}"),
            },
        };
        println!(
            "  /{}_{command}  {}  [{retried}; {server}]",
            config.name, info.description
        );
        if let Some(warning) =
            tool.and_then(|t| hint_warning(&config.name, command, info.idempotent, t))
        {
            eprintln!("warning: {warning}");
        }
    }
    for tool in tools
        .iter()
        .filter(|t| !config.commands.contains_key(t.name.as_ref()))
    {
        let hints = hints(tool);
        let hints = if hints.is_empty() {
            String::new()
        } else {
            format!(" (hints: {hints})")
        };
        println!(
            "  + tool `{}` listed by the server, not declared{hints}",
            tool.name
        );
    }
    Ok(())
}

/// The behaviour hints a tool's annotations carry, as `idempotentHint=true readOnlyHint=false`.
fn hints(tool: &Tool) -> String {
    let Some(a) = &tool.annotations else {
        return String::new();
    };
    [
        ("idempotentHint", a.idempotent_hint),
        ("readOnlyHint", a.read_only_hint),
        ("destructiveHint", a.destructive_hint),
    ]
    .iter()
    .filter_map(|(name, value)| value.map(|v| format!("{name}={v}")))
    .collect::<Vec<_>>()
    .join(" ")
}

/// A warning when the server hints that repeating the tool may do harm, but the manager retries
/// it after a timeout. Hints are never trusted for the decision (a server could lie either way).
fn hint_warning(cattackle: &str, command: &str, idempotent: bool, tool: &Tool) -> Option<String> {
    let a = tool.annotations.as_ref()?;
    let repeats_harm = a.read_only_hint != Some(true)
        && (a.idempotent_hint == Some(false) || a.destructive_hint == Some(true));
    (idempotent && repeats_harm).then(|| {
        format!(
            "`{cattackle}`: the server hints that `{command}` is not idempotent, but a timed-out call is retried; if a repeat would do harm, set `idempotent = false` under `[cattackle.commands.{command}]`"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::ToolAnnotations;

    fn tool(annotations: Option<ToolAnnotations>) -> Tool {
        let mut tool = Tool::new("pay", "pays", serde_json::Map::new());
        tool.annotations = annotations;
        tool
    }

    #[test]
    fn warns_only_when_the_server_hints_harm_and_the_command_is_retried() {
        let harmful = ToolAnnotations::new().idempotent(false);
        assert!(hint_warning("shop", "pay", true, &tool(Some(harmful.clone()))).is_some());
        assert!(hint_warning("shop", "pay", false, &tool(Some(harmful))).is_none());
        let read_only = ToolAnnotations::new().read_only(true).idempotent(false);
        assert!(hint_warning("shop", "pay", true, &tool(Some(read_only))).is_none());
        let safe = ToolAnnotations::new().idempotent(true).destructive(false);
        assert!(hint_warning("shop", "pay", true, &tool(Some(safe))).is_none());
        assert!(hint_warning("shop", "pay", true, &tool(None)).is_none());
    }

    #[test]
    fn hints_name_only_what_the_server_set() {
        let a = ToolAnnotations::new().idempotent(true).read_only(false);
        assert_eq!(
            hints(&tool(Some(a))),
            "idempotentHint=true readOnlyHint=false"
        );
        assert_eq!(hints(&tool(None)), "");
    }
}
