//! `cattackle call`.

use std::path::PathBuf;

use cattackle_harness::config::load_path;
use cattackle_harness::manager::{CattackleError, CattackleResponse, McpClientManager, Payload};
use cattackle_harness::transport::DefaultConnector;

use super::exit::{EXIT_FAILED, EXIT_OK, EXIT_USAGE, of_error};
use super::program_dirs;

const EXAMPLES: &str = "\
Examples:
  cattackle call cattackles/echo echo --text hello
  cattackle call cattackles/echo echo --text hi --param older --username ann --json
  cattackle call --raw path/to/server.toml get-sum --args '{\"a\": 1, \"b\": 2}'";

#[derive(clap::Args, Debug)]
#[command(after_help = format!("{}\n\n{EXAMPLES}", super::EXIT_CODES))]
pub(crate) struct CallArgs {
    /// A `cattackle.toml`, or a directory holding one.
    cattackle: PathBuf,
    /// The command (MCP tool) to call.
    command: String,
    /// The message text (`text`).
    #[arg(long, conflicts_with = "raw")]
    text: Option<String>,
    /// An accumulated message (`accumulated_params`); repeat for several.
    #[arg(long = "param", value_name = "P", conflicts_with = "raw")]
    params: Vec<String>,
    /// The username injected as `extra.username` (default "undefined").
    #[arg(long, conflicts_with = "raw")]
    username: Option<String>,
    /// The whole payload as a JSON object; --text, --param and --username override its keys.
    #[arg(long, value_name = "JSON", conflicts_with = "raw")]
    payload: Option<String>,
    /// Print the whole response (`data`, `error`, `is_error`) as JSON.
    #[arg(long)]
    json: bool,
    /// Call any tool, declared or not, with exactly `--args` (no `extra`), and print the MCP
    /// result as JSON: for servers that are not cattackles (yet). Exit 1 when `isError` is true.
    #[arg(long)]
    raw: bool,
    /// With --raw: the tool's arguments, a JSON object (default `{}`).
    #[arg(long, value_name = "JSON", requires = "raw")]
    args: Option<String>,
    /// After the call, print the manager's metrics (OpenMetrics text) on stderr.
    #[arg(long)]
    metrics: bool,
}

pub(crate) async fn run(args: CallArgs) -> u8 {
    let loaded = match load_path(&args.cattackle) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("{}", e.render());
            return EXIT_USAGE;
        }
    };
    if !loaded.warnings.is_empty() {
        eprintln!("{}", loaded.render_warnings());
    }
    let config = &loaded.config;
    let manager =
        McpClientManager::with_connector(DefaultConnector::with_program_dirs(program_dirs()));
    let code = if args.raw {
        let arguments = match raw_arguments(args.args.as_deref()) {
            Ok(arguments) => arguments,
            Err(message) => {
                eprintln!("error: {message}");
                return EXIT_USAGE;
            }
        };
        let outcome = manager.call_raw(config, &args.command, arguments).await;
        report_raw(outcome)
    } else {
        let payload = match build_payload(&args) {
            Ok(payload) => payload,
            Err(message) => {
                eprintln!("error: {message}");
                return EXIT_USAGE;
            }
        };
        let outcome = manager.call(config, &args.command, payload).await;
        report(outcome, args.json)
    };
    // The result is out; a busy child may take its grace to stop.
    manager.close_all_sessions(config.mcp.shutdown_grace).await;
    if args.metrics {
        eprint!("{}", manager.metrics_text());
    }
    code
}

/// Prints a call's outcome, and says how to exit.
fn report(outcome: Result<CattackleResponse, CattackleError>, json: bool) -> u8 {
    let response = match outcome {
        Ok(response) => response,
        Err(CattackleError::Tool { text, .. }) => {
            if json {
                let shown = serde_json::json!({ "data": "", "error": text, "is_error": true });
                println!("{}", pretty(&shown));
            }
            eprintln!("error: the cattackle reported a tool error (isError): {text}");
            return EXIT_FAILED;
        }
        Err(e) => {
            // An unavailable cattackle's fallback is what a chat core would show its user.
            if let Some(fallback) = e.fallback() {
                println!("{fallback}");
            }
            eprintln!("error: {e}");
            return of_error(&e);
        }
    };
    if json {
        println!("{}", pretty(&response));
    } else {
        println!("{}", response.data);
    }
    if response.data_missing {
        eprintln!("warning: the cattackle's answer has no `data` (read as \"\")");
    }
    if response.has_error() {
        let error = response.error.as_deref().filter(|e| !e.is_empty());
        eprintln!(
            "error: cattackle reported: {}",
            error.unwrap_or("isError is true")
        );
        return EXIT_FAILED;
    }
    EXIT_OK
}

/// Prints a raw call's MCP result as JSON.
fn report_raw(outcome: Result<rmcp::model::CallToolResult, CattackleError>) -> u8 {
    match outcome {
        Ok(result) => {
            println!("{}", pretty(&result));
            if result.is_error == Some(true) {
                eprintln!("error: the tool reported an error (isError is true)");
                return EXIT_FAILED;
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            of_error(&e)
        }
    }
}

fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn raw_arguments(args: Option<&str>) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let Some(json) = args else {
        return Ok(serde_json::Map::new());
    };
    match serde_json::from_str(json) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err("--args must be a JSON object".to_owned()),
        Err(e) => Err(format!("--args is not JSON: {e}")),
    }
}

/// The contract payload: `text` and `accumulated_params` always (as the original router sends
/// them, an empty list without `--param`), `--payload` keys underneath.
fn build_payload(args: &CallArgs) -> Result<Payload, String> {
    let mut payload = match &args.payload {
        Some(json) => {
            let mut value: serde_json::Value =
                serde_json::from_str(json).map_err(|e| format!("--payload is not JSON: {e}"))?;
            if let Some(object) = value.as_object_mut() {
                object
                    .entry("accumulated_params")
                    .or_insert_with(|| serde_json::json!([]));
            }
            Payload::from_value(value).map_err(|e| format!("--payload: {e}"))?
        }
        None => Payload::text(""),
    };
    if let Some(text) = &args.text {
        payload = payload.with_field("text", serde_json::Value::String(text.clone()));
    }
    if !args.params.is_empty() || args.payload.is_none() {
        // Without --param: the empty list (a --payload keeps its own).
        payload = payload.with_accumulated_params(args.params.iter().cloned());
    }
    if let Some(user) = &args.username {
        payload = payload.with_username(user.clone());
    }
    Ok(payload)
}
