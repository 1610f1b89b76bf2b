//! `cattackle call`.

use std::path::PathBuf;

use cattackle_harness::config::load_path;
use cattackle_harness::manager::{CattackleError, McpClientManager, Payload};
use cattackle_harness::transport::DefaultConnector;

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE, program_dirs};

#[derive(clap::Args, Debug)]
pub(crate) struct CallArgs {
    /// A `cattackle.toml`, or a directory holding one.
    cattackle: PathBuf,
    /// The command (MCP tool) to call.
    command: String,
    /// The message text (`text`).
    #[arg(long)]
    text: Option<String>,
    /// An accumulated message (`accumulated_params`); repeat for several.
    #[arg(long = "param", value_name = "P")]
    params: Vec<String>,
    /// The username injected as `extra.username` (default "undefined").
    #[arg(long)]
    username: Option<String>,
    /// The whole payload as a JSON object; --text, --param and --username override its keys.
    #[arg(long, value_name = "JSON")]
    payload: Option<String>,
    /// Print the whole response (`data`, `error`, `is_error`) as JSON.
    #[arg(long)]
    json: bool,
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
    let payload = match build_payload(&args) {
        Ok(payload) => payload,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_USAGE;
        }
    };
    let config = &loaded.config;
    let manager =
        McpClientManager::with_connector(DefaultConnector::with_program_dirs(program_dirs()));
    let outcome = manager.call(config, &args.command, payload).await;
    manager.close_all_sessions(config.mcp.shutdown_grace).await;
    match outcome {
        Ok(response) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&response).unwrap_or_default()
                );
            } else {
                println!("{}", response.data);
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
        Err(e @ CattackleError::UnknownCommand { .. }) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAILED
        }
    }
}

fn build_payload(args: &CallArgs) -> Result<Payload, String> {
    let mut payload = match &args.payload {
        Some(json) => {
            let value =
                serde_json::from_str(json).map_err(|e| format!("--payload is not JSON: {e}"))?;
            Payload::from_value(value).map_err(|e| format!("--payload: {e}"))?
        }
        None => Payload::text(""),
    };
    if let Some(text) = &args.text {
        payload = payload.with_field("text", serde_json::Value::String(text.clone()));
    }
    if !args.params.is_empty() {
        payload = payload.with_accumulated_params(args.params.iter().cloned());
    }
    if let Some(user) = &args.username {
        payload = payload.with_username(user.clone());
    }
    Ok(payload)
}
