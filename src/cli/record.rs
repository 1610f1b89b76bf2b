//! `cattackle record`: calls a real cattackle and writes a scenario whose mock answers exactly
//! what it answered (its mocked twin), to run against the mock and the real server side by side.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cattackle_harness::config::{CattackleConfig, TransportConfig, load_path};
use cattackle_harness::manager::{CattackleError, McpClientManager, Payload, parse_call_result};
use cattackle_harness::transport::DefaultConnector;
use serde_json::{Value, json};

use super::exit::{EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE};
use super::program_dirs;

const EXAMPLES: &str = "\
Examples:
  cattackle record cattackles/echo --call echo --text hello --call ping -o echo-twin.yaml
  cattackle record fixtures/echo-websocket.toml --launch 'echo-cattackle --transport websocket --port {port}' --call echo --text hi -o ws-twin.yaml
  cattackle record cattackles/echo --from-transcript scenarios/real/echo-stdio.yaml -o twin.yaml";

#[derive(clap::Args, Debug)]
#[command(after_help = format!("{}\n\n{EXAMPLES}", super::EXIT_CODES))]
pub(crate) struct RecordArgs {
    /// A `cattackle.toml`, or a directory holding one.
    cattackle: PathBuf,
    /// A command to call; repeat for several, in order.
    #[arg(long = "call", value_name = "COMMAND")]
    calls: Vec<String>,
    /// The text of the `--call` before it (a call without one sends no text).
    #[arg(long = "text", value_name = "T", requires = "calls")]
    texts: Vec<String>,
    /// Take the calls from a scenario file's `call` steps, or a snapshot's `call …` actions
    /// (after any `--call`).
    #[arg(long, value_name = "FILE")]
    from_transcript: Option<PathBuf>,
    /// Start this network server first (split like a shell would; `{port}` becomes a free port,
    /// also in the configuration's URL); the scenario launches it the same way.
    #[arg(long, value_name = "COMMAND LINE")]
    launch: Option<String>,
    /// The scenario file to write.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

/// One call to make.
struct Call {
    command: String,
    text: Option<String>,
}

/// What one call gave: the reply the mock will give, and what the manager made of it.
struct Recorded {
    call: Call,
    reply: Value,
    expect: Value,
}

pub(crate) async fn run(args: RecordArgs) -> u8 {
    let loaded = match load_path(&args.cattackle) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("{}", e.render());
            return EXIT_USAGE;
        }
    };
    let calls = match calls(&args) {
        Ok(calls) if calls.is_empty() => {
            eprintln!(
                "error: nothing to record: give `--call COMMAND` or `--from-transcript FILE`"
            );
            return EXIT_USAGE;
        }
        Ok(calls) => calls,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_USAGE;
        }
    };
    let mut config = loaded.config.clone();
    let mut launched = None;
    if let Some(line) = &args.launch {
        match launch(line, &mut config).await {
            Ok(child) => launched = Some(child),
            Err(message) => {
                eprintln!("error: --launch: {message}");
                return EXIT_UNREACHABLE;
            }
        }
    }
    let manager =
        McpClientManager::with_connector(DefaultConnector::with_program_dirs(program_dirs()));
    let code = record(&manager, &config, calls, &args).await;
    manager.close_all_sessions(config.mcp.shutdown_grace).await;
    drop(launched);
    code
}

async fn record(
    manager: &McpClientManager,
    config: &CattackleConfig,
    calls: Vec<Call>,
    args: &RecordArgs,
) -> u8 {
    let tools = match manager.list_tools(config).await {
        Ok(tools) => tools,
        Err(e) => {
            eprintln!("error: cannot list the tools of '{}': {e}", config.name);
            return super::exit::of_error(&e);
        }
    };
    let mut recorded = Vec::new();
    for (n, call) in calls.into_iter().enumerate() {
        let payload = call
            .text
            .clone()
            .map_or_else(Payload::default, Payload::text);
        let outcome = manager
            .call_raw(config, &call.command, payload.arguments())
            .await;
        let (reply, expect) = match outcome {
            Ok(result) => {
                let raw = serde_json::to_value(&result).unwrap_or(Value::Null);
                let expect = match parse_call_result(&config.name, &result) {
                    Ok(r) => {
                        json!({ "ok": { "data": r.data, "error": r.error, "is_error": r.is_error } })
                    }
                    Err(e) => json!({ "error": { "kind": e.kind().as_str() } }),
                };
                (json!({ "result": raw }), expect)
            }
            Err(e) => match json_rpc(&e) {
                Some((code, message)) => (
                    json!({ "jsonrpc_error": { "code": code, "message": message } }),
                    json!({ "error": { "kind": e.kind().as_str() } }),
                ),
                None => {
                    eprintln!(
                        "error: call {} (`{}`) failed, nothing was written: {e}",
                        n + 1,
                        call.command
                    );
                    return super::exit::of_error(&e);
                }
            },
        };
        recorded.push(Recorded {
            call,
            reply,
            expect,
        });
    }
    let text = scenario(config, &tools, &recorded, args);
    let secrets = config.mcp.transport.secret_values();
    let leaked = secrets
        .iter()
        .any(|s| !s.is_empty() && text.contains(s.as_str()));
    let text = secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text, |t, s| t.replace(s.as_str(), "[redacted]"));
    if leaked {
        eprintln!(
            "warning: an answer held a secret of the configuration; it is written as [redacted]"
        );
    }
    if let Err(e) = std::fs::write(&args.output, text) {
        eprintln!("error: cannot write {}: {e}", args.output.display());
        return EXIT_FAILED;
    }
    println!(
        "recorded {} tool(s) and {} call(s) of '{}' into {}\nrun it: cattackle test {}",
        tools.len(),
        recorded.len(),
        config.name,
        args.output.display(),
        args.output.display()
    );
    EXIT_OK
}

/// The JSON-RPC error behind `e` (the last attempt's, after retries), if that is what it is.
fn json_rpc(e: &CattackleError) -> Option<(i32, String)> {
    match e {
        CattackleError::JsonRpc { code, message, .. } => Some((*code, message.clone())),
        CattackleError::Exhausted { last, .. } => json_rpc(last),
        _ => None,
    }
}

/// The calls of `--call`/`--text`, then those of `--from-transcript`.
fn calls(args: &RecordArgs) -> Result<Vec<Call>, String> {
    let mut calls = paired(std::env::args().skip(1))?;
    if calls.len() != args.calls.len()
        || calls.iter().filter(|c| c.text.is_some()).count() != args.texts.len()
    {
        return Err("cannot tell which `--text` goes with which `--call`".to_owned());
    }
    if let Some(file) = &args.from_transcript {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let doc: serde_yaml::Value = serde_yaml::from_str(&text)
            .map_err(|e| format!("{}: not YAML: {e}", file.display()))?;
        let steps = doc
            .get("steps")
            .and_then(|s| s.as_sequence())
            .ok_or_else(|| {
                format!(
                    "{}: no `steps` list (a scenario or a snapshot)",
                    file.display()
                )
            })?;
        calls.extend(steps.iter().filter_map(step_call));
    }
    Ok(calls)
}

/// `--call C [--text T]` pairs, in the order given: a `--text` belongs to the `--call` before it.
fn paired(argv: impl Iterator<Item = String>) -> Result<Vec<Call>, String> {
    let mut calls: Vec<Call> = Vec::new();
    let mut argv = argv.peekable();
    while let Some(word) = argv.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (word.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| argv.next());
        match flag.as_str() {
            "--call" => calls.push(Call {
                command: value().unwrap_or_default(),
                text: None,
            }),
            "--text" => {
                let text = value();
                match calls.last_mut() {
                    Some(call) if call.text.is_none() => call.text = text,
                    Some(call) => {
                        return Err(format!("two `--text` for `--call {}`", call.command));
                    }
                    None => return Err("`--text` before any `--call`".to_owned()),
                }
            }
            // Every other option of `record` takes one value, or none: skip its value so that a
            // value spelled `--call` is not taken for the flag.
            "-o" | "--output" | "--launch" | "--from-transcript" | "--color"
                if inline.is_none() =>
            {
                argv.next();
            }
            _ => {}
        }
    }
    Ok(calls)
}

/// The call of one step: a scenario's `call: { command, text }`, or a snapshot's
/// `action: call echo "hi"`.
fn step_call(step: &serde_yaml::Value) -> Option<Call> {
    if let Some(call) = step.get("call") {
        return Some(Call {
            command: call.get("command")?.as_str()?.to_owned(),
            text: call.get("text").and_then(|t| t.as_str()).map(str::to_owned),
        });
    }
    let action = step.get("action")?.as_str()?.strip_prefix("call ")?;
    let (command, rest) = action.split_once(' ').unwrap_or((action, ""));
    let text = serde_json::from_str::<String>(rest.trim()).ok();
    Some(Call {
        command: command.to_owned(),
        text,
    })
}

/// Starts `line` with `{port}` filled in (also in the configuration's URL), and waits until the
/// port accepts connections.
async fn launch(line: &str, config: &mut CattackleConfig) -> Result<tokio::process::Child, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let fill = |s: &str| s.replace("{port}", &port.to_string());
    let words = shlex::split(&fill(line)).ok_or("cannot split it (unbalanced quotes?)")?;
    let (program, rest) = words.split_first().ok_or("it is empty")?;
    let program = find_program(program);
    let mut child = tokio::process::Command::new(&program)
        .args(rest)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start `{}`: {e}", program.display()))?;
    config.mcp.transport = match config.mcp.transport.clone() {
        TransportConfig::WebSocket { url, headers } => TransportConfig::WebSocket {
            url: fill(&url),
            headers,
        },
        TransportConfig::Http { url, headers } => TransportConfig::Http {
            url: fill(&url),
            headers,
        },
        stdio => stdio,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        if tokio::time::Instant::now() >= deadline || child.try_wait().ok().flatten().is_some() {
            return Err(format!(
                "`{line}` did not accept connections on port {port} within 10s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(child)
}

/// A bare program name found on PATH, else beside `cattackle` (as the stdio transport does).
fn find_program(name: &str) -> PathBuf {
    let bare = !name.contains('/');
    let beside = program_dirs()
        .into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false);
    match (bare && !on_path, beside) {
        (true, Some(path)) => path,
        _ => PathBuf::from(name),
    }
}

/// The scenario text: top-level keys in a readable order, values as JSON (which YAML reads).
fn scenario(
    config: &CattackleConfig,
    tools: &[rmcp::model::Tool],
    recorded: &[Recorded],
    args: &RecordArgs,
) -> String {
    let q = |v: &Value| v.to_string();
    let file = relative(&args.output, &args.cattackle);
    let mut out = String::new();
    out.push_str(&format!(
        "name: {}\n",
        q(&json!(format!(
            "the mocked twin of '{}' over {}, recorded",
            config.name,
            config.mcp.transport.kind().as_str()
        )))
    ));
    out.push_str(
        "description: >\n  Written by `cattackle record`: the mock lists the tools the real cattackle listed and\n  answers each call exactly as it did. `server: [mock, real]` runs the twin and the real server\n  side by side, so the recording stays honest about the server.\n",
    );
    out.push_str("tags: [recorded]\nserver: [mock, real]\n");
    if let Some(line) = &args.launch {
        let words = shlex::split(line).unwrap_or_default();
        if let Some((command, rest)) = words.split_first() {
            out.push_str(&format!(
                "launch:\n  command: {}\n  args: {}\n",
                q(&json!(command)),
                q(&json!(rest))
            ));
        }
    }
    out.push_str(&format!("cattackle: {{ file: {} }}\n", q(&json!(file))));
    out.push_str("mock:\n  tools:\n");
    let mut names: Vec<&rmcp::model::Tool> = tools.iter().collect();
    names.sort_by(|a, b| a.name.cmp(&b.name));
    for tool in names {
        out.push_str(&format!("    {}:\n", q(&json!(tool.name))));
        if let Some(d) = &tool.description {
            out.push_str(&format!("      description: {}\n", q(&json!(d))));
        }
        out.push_str(&format!(
            "      input_schema: {}\n",
            q(&Value::Object((*tool.input_schema).clone()))
        ));
        if let Some(a) = &tool.annotations {
            out.push_str(&format!(
                "      annotations: {}\n",
                q(&serde_json::to_value(a).unwrap_or(Value::Null))
            ));
        }
        let replies: Vec<&Value> = recorded
            .iter()
            .filter(|r| r.call.command == tool.name.as_ref())
            .map(|r| &r.reply)
            .collect();
        match replies.as_slice() {
            [] => {}
            [one] => {
                let (key, value) = one.as_object().and_then(|o| o.iter().next()).unzip();
                if let (Some(key), Some(value)) = (key, value) {
                    out.push_str(&format!("      {key}: {}\n", q(value)));
                }
            }
            many => {
                out.push_str("      sequence:\n");
                for reply in many {
                    out.push_str(&format!("        - {}\n", q(reply)));
                }
            }
        }
    }
    out.push_str("steps:\n");
    for r in recorded {
        let mut call = json!({ "command": r.call.command });
        if let Some(text) = &r.call.text {
            call["text"] = json!(text);
        }
        out.push_str(&format!(
            "  - call: {}\n    expect: {}\n",
            q(&call),
            q(&r.expect)
        ));
    }
    out
}

/// `target` relative to the directory of `from` (both made absolute), for the scenario's
/// `cattackle.file`.
fn relative(from: &Path, target: &Path) -> String {
    let absolute = |p: &Path| {
        std::path::absolute(p)
            .map_or_else(|_| p.to_path_buf(), |p| p.components().collect::<PathBuf>())
    };
    let base = absolute(from);
    let base = base.parent().unwrap_or(Path::new("/"));
    let target = absolute(target);
    let (b, t): (Vec<_>, Vec<_>) = (base.components().collect(), target.components().collect());
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut path = PathBuf::new();
    for _ in common..b.len() {
        path.push("..");
    }
    for c in &t[common..] {
        path.push(c);
    }
    path.display().to_string()
}
