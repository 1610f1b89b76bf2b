//! Interop against MCP servers nobody here wrote: the official Python SDK 2.x (stdio, HTTP) and
//! 1.x (WebSocket) running the Python reference cattackle, and the npm reference server
//! `@modelcontextprotocol/server-everything` (stdio, HTTP); plus the `echo-cattackle` binary
//! over its network transports. Peers live in `.peers/` (`bash scripts/install-peers.sh`); a trial
//! whose peer is missing is reported as ignored.
//!
//! Each trial: a call succeeds, the negotiated protocol version is the expected one, and a
//! server killed between calls is detected and replaced. Each `check:` trial runs the
//! conformance pack against the peer: every MUST check passes, except the failures verified
//! against the peer and listed in `known_failures`.
#![expect(
    clippy::print_stderr,
    reason = "a test harness tells how to install what it misses"
)]

#[path = "support/processes.rs"]
#[allow(dead_code, unreachable_pub)]
mod processes;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use cattackle_harness::config::{CattackleConfig, load_str};
use cattackle_harness::manager::{McpClientManager, Payload};
use libtest_mimic::{Arguments, Failed, Trial};
use rmcp::model::CallToolResult;
use tokio::process::{Child, Command};

const INSTALL: &str = "bash scripts/install-peers.sh";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Wire {
    Stdio,
    WebSocket,
    Http,
}

/// How to start a peer; `port` is filled in for network peers.
#[derive(Clone)]
struct Peer {
    name: &'static str,
    wire: Wire,
    program: PathBuf,
    args: Vec<String>,
    /// Follows the cattackle contract (`echo` answers `{"data": …}`), or is a plain MCP server.
    contract: bool,
    protocol: &'static str,
    /// `mcp.protocol` of the configuration.
    era: &'static str,
    needs: Vec<PathBuf>,
}

/// The checks a peer fails, each verified by hand against the peer (see docs/check.md).
fn known_failures(peer: &str) -> &'static [&'static str] {
    if peer.starts_with("python-sdk-1/") {
        // SDK 1.x validates a request against the union of the requests it knows before it
        // routes it: an unknown method is answered -32602 "Invalid request parameters".
        &["lifecycle.unknown-method"]
    } else if peer == "server-everything/http" {
        // An unknown (or deleted) Mcp-Session-Id is answered 400 "No valid session ID", not 404.
        &["http.unknown-session"]
    } else {
        &[]
    }
}

/// The checks a peer fails only when a race goes one way: allowed to fail, and to pass.
fn racy_failures(peer: &str) -> &'static [&'static str] {
    if peer.starts_with("python-sdk-1/stdio") {
        // A `notifications/cancelled` that lands after the tool returned but before its answer
        // was sent marks the request complete; the answer then trips SDK 1.x's
        // "Request already responded to" assertion and the server exits. Seen in CI under load.
        &["robust.cancel"]
    } else {
        &[]
    }
}

impl Peer {
    fn missing(&self) -> Option<&Path> {
        self.needs
            .iter()
            .find(|p| !p.exists())
            .map(PathBuf::as_path)
    }

    fn args_for(&self, port: u16) -> Vec<String> {
        self.args
            .iter()
            .map(|a| a.replace("{port}", &port.to_string()))
            .collect()
    }
}

fn peers() -> Vec<Peer> {
    let py2 = root().join(".peers/py2/bin/python");
    let py1 = root().join(".peers/py1/bin/python");
    let server_py = root().join("cattackles/echo-python/server.py");
    let everything = root()
        .join(".peers/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    let echo = processes::echo_binary();
    let py = |wire: &str| -> Vec<String> {
        let script = server_py.display().to_string();
        [script.as_str(), "--transport", wire, "--port", "{port}"]
            .map(String::from)
            .to_vec()
    };
    let stdio_py = vec![
        server_py.display().to_string(),
        "--transport".into(),
        "stdio".into(),
    ];
    vec![
        // `auto`: an SDK 1.x server knows no `server/discover`; the manager falls back to
        // `initialize`. An SDK 2.x server speaks the 2026 era when asked.
        Peer {
            name: "python-sdk-1/stdio (protocol auto)",
            wire: Wire::Stdio,
            program: py1.clone(),
            args: stdio_py.clone(),
            contract: true,
            protocol: "2025-11-25",
            era: "auto",
            needs: vec![py1.clone()],
        },
        Peer {
            name: "python-sdk-1/websocket (protocol auto)",
            wire: Wire::WebSocket,
            program: py1.clone(),
            args: py("websocket"),
            contract: true,
            protocol: "2025-11-25",
            era: "auto",
            needs: vec![py1.clone()],
        },
        Peer {
            name: "python-sdk-2/stdio (protocol auto)",
            wire: Wire::Stdio,
            program: py2.clone(),
            args: stdio_py,
            contract: true,
            protocol: "2026-07-28",
            era: "auto",
            needs: vec![py2.clone()],
        },
        Peer {
            name: "python-sdk-2/stdio",
            wire: Wire::Stdio,
            program: py2.clone(),
            args: vec![
                server_py.display().to_string(),
                "--transport".into(),
                "stdio".into(),
            ],
            contract: true,
            protocol: "2025-11-25",
            era: "2025-11-25",
            needs: vec![py2.clone()],
        },
        Peer {
            name: "python-sdk-2/http",
            wire: Wire::Http,
            program: py2.clone(),
            args: py("http"),
            contract: true,
            protocol: "2025-11-25",
            era: "2025-11-25",
            needs: vec![py2.clone()],
        },
        Peer {
            name: "python-sdk-1/websocket",
            wire: Wire::WebSocket,
            program: py1.clone(),
            args: py("websocket"),
            contract: true,
            protocol: "2025-11-25",
            era: "2025-11-25",
            needs: vec![py1.clone()],
        },
        Peer {
            name: "server-everything/stdio",
            wire: Wire::Stdio,
            program: "node".into(),
            args: vec![everything.display().to_string(), "stdio".into()],
            contract: false,
            protocol: "2025-11-25",
            era: "2025-11-25",
            needs: vec![everything.clone()],
        },
        Peer {
            name: "server-everything/http",
            wire: Wire::Http,
            program: "node".into(),
            args: vec![everything.display().to_string(), "streamableHttp".into()],
            contract: false,
            protocol: "2025-11-25",
            era: "2025-11-25",
            needs: vec![everything.clone()],
        },
        Peer {
            name: "echo-cattackle/websocket",
            wire: Wire::WebSocket,
            program: echo.clone(),
            args: vec![
                "--transport".into(),
                "websocket".into(),
                "--port".into(),
                "{port}".into(),
            ],
            contract: true,
            protocol: "2025-11-25",
            era: "2025-11-25",
            needs: vec![echo.clone()],
        },
        Peer {
            name: "echo-cattackle/http",
            wire: Wire::Http,
            program: echo.clone(),
            args: vec![
                "--transport".into(),
                "http".into(),
                "--port".into(),
                "{port}".into(),
            ],
            contract: true,
            protocol: "2025-11-25",
            era: "2025-11-25",
            needs: vec![echo],
        },
    ]
}

fn config(peer: &Peer, port: u16) -> CattackleConfig {
    let transport = match peer.wire {
        Wire::Stdio => format!(
            "type = \"stdio\"\ncommand = {:?}\nargs = {:?}",
            peer.program.display().to_string(),
            peer.args
        ),
        Wire::WebSocket => format!("type = \"websocket\"\nurl = \"ws://127.0.0.1:{port}/mcp\""),
        Wire::Http => format!("type = \"http\"\nurl = \"http://127.0.0.1:{port}/mcp\""),
    };
    let text = format!(
        "name = \"peer\"\nversion = \"1\"\ndescription = \"interop\"\ncommands = {{ echo = {{ description = \"e\" }} }}\n\
         [mcp]\ntimeout = 10\nconnect_timeout = 20\nmax_retries = 2\nbackoff = {{ base = 0.2 }}\nprotocol = \"{}\"\n[mcp.transport]\n{transport}\n",
        peer.era
    );
    load_str("interop.toml", &text)
        .map_err(|e| e.render())
        .expect("interop config")
        .config
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts a network peer on `port` and waits (bounded) until it accepts connections.
async fn start(peer: &Peer, port: u16) -> Result<Child, Failed> {
    let child = Command::new(&peer.program)
        .args(peer.args_for(port))
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", peer.name))?;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(child);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("{} did not listen on port {port} within 10 s", peer.name).into())
}

fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

async fn call_once(
    manager: &McpClientManager,
    cfg: &CattackleConfig,
    peer: &Peer,
    word: &str,
) -> Result<(), Failed> {
    if peer.contract {
        let got = manager
            .call(cfg, "echo", Payload::text(word))
            .await
            .map_err(|e| e.to_string())?;
        if got.data != word || got.has_error() {
            return Err(format!("echo answered {got:?}").into());
        }
    } else {
        let args = serde_json::json!({ "message": word });
        let result = manager
            .call_raw(cfg, "echo", args.as_object().cloned().unwrap_or_default())
            .await
            .map_err(|e| e.to_string())?;
        let text = text_of(&result);
        if !text.contains(word) {
            return Err(format!("echo answered {text:?}").into());
        }
    }
    Ok(())
}

async fn trial(peer: Peer) -> Result<(), Failed> {
    let port = free_port();
    let mut server = match peer.wire {
        Wire::Stdio => None,
        _ => Some(start(&peer, port).await?),
    };
    let cfg = config(&peer, port);
    let manager = McpClientManager::new();
    call_once(&manager, &cfg, &peer, "first").await?;
    let protocol = manager.session_protocol("peer").await;
    if protocol.as_deref() != Some(peer.protocol) {
        return Err(format!("negotiated {protocol:?}, expected {}", peer.protocol).into());
    }
    // Kill the server between calls; the next call must detect it and get a new session.
    match &mut server {
        None => {
            let pid = manager
                .session_pid("peer")
                .await
                .ok_or("no pid for a stdio session")?;
            // SAFETY: kill(2) of our own child's process group leader.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            if !processes::gone_within(pid, Duration::from_secs(5)).await {
                return Err("the killed server is still running".into());
            }
        }
        Some(child) => {
            child.kill().await.map_err(|e| e.to_string())?;
            *child = start(&peer, port).await?;
        }
    }
    call_once(&manager, &cfg, &peer, "second").await?;
    if manager.sessions_opened() != 2 {
        return Err(format!("{} sessions opened, expected 2", manager.sessions_opened()).into());
    }
    manager.close_all_sessions(Duration::from_secs(2)).await;
    Ok(())
}

/// Runs the pack against the peer; fails on a MUST failure it is not known for, and on a known
/// failure that no longer happens (the list must stay true).
async fn check_trial(peer: Peer) -> Result<(), Failed> {
    use cattackle_harness::check::{self, Options, Pack, Selection, Status, Target};
    let port = free_port();
    let mut server = match peer.wire {
        Wire::Stdio => None,
        _ => Some(start(&peer, port).await?),
    };
    let mut cfg = config(&peer, port);
    let target = if peer.contract {
        for command in ["joke", "ping"] {
            cfg.commands.insert(
                command.to_owned(),
                cattackle_harness::config::CommandConfig::new(command),
            );
        }
        Target::cattackle(
            cfg,
            vec![processes::echo_binary().parent().unwrap().to_owned()],
        )
    } else {
        let mut target = Target::cattackle(cfg, Vec::new());
        target.cattackle = false;
        target.config.commands.clear();
        target
    };
    let options = Options {
        era: check::Era::parse(peer.era).unwrap_or(check::Era::Auto),
        ..Options::default()
    };
    let suite = check::run_suite(target, options, &Selection::default(), &Pack::default()).await;
    if let Some(server) = &mut server {
        let _ = server.kill().await;
    }
    if !suite.reachable {
        return Err(format!(
            "unreachable: {:?}",
            suite.results.first().map(|r| &r.message)
        )
        .into());
    }
    let failed: Vec<String> = suite
        .results
        .iter()
        .filter(|r| matches!(r.status, Status::Fail | Status::Error))
        .map(|r| r.id.clone())
        .collect();
    let known = known_failures(peer.name);
    let racy = racy_failures(peer.name);
    let unexpected: Vec<_> = suite
        .results
        .iter()
        .filter(|r| {
            matches!(r.status, Status::Fail | Status::Error)
                && !known.contains(&r.id.as_str())
                && !racy.contains(&r.id.as_str())
        })
        .map(|r| {
            format!(
                "{} {}: {} {:?}",
                r.id,
                r.subject.clone().unwrap_or_default(),
                r.message,
                r.evidence
            )
        })
        .collect();
    if !unexpected.is_empty() {
        return Err(format!("unexpected failures:\n{}", unexpected.join("\n")).into());
    }
    let gone: Vec<_> = known
        .iter()
        .filter(|k| !failed.iter().any(|f| f == *k))
        .collect();
    if !gone.is_empty() {
        return Err(format!(
            "known failures that no longer fail (update known_failures): {gone:?}"
        )
        .into());
    }
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime, Failed> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string().into())
}

/// Records the Python reference cattackle (SDK 2.x) with `cattackle record`, then runs the twin:
/// against the mock and against the real Python server, both must pass.
fn record_trial(py2: &Path) -> Result<(), Failed> {
    let dir = std::env::temp_dir().join(format!("cattackle-interop-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let config = dir.join("cattackle.toml");
    let original = std::fs::read_to_string(root().join("cattackles/echo-python/cattackle.toml"))
        .map_err(|e| e.to_string())?;
    let script = root().join("cattackles/echo-python/server.py");
    let patched = original
        .replace(
            "command = \"python\"",
            &format!("command = {:?}", py2.display().to_string()),
        )
        .replace(
            "\"cattackles/echo-python/server.py\"",
            &format!("{:?}", script.display().to_string()),
        );
    std::fs::write(&config, patched).map_err(|e| e.to_string())?;
    let scenario = dir.join("twin.yaml");
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cattackle"))
            .args(args)
            .current_dir(root())
            .env_remove("CI")
            .output()
            .map_err(|e| e.to_string())
    };
    let out = cli(&[
        "record",
        config.to_str().unwrap(),
        "--call",
        "echo",
        "--text",
        "from python",
        "--call",
        "joke",
        "--text",
        "snakes",
        "--call",
        "ping",
        "-o",
        scenario.to_str().unwrap(),
    ])?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
    }
    let out = cli(&["test", scenario.to_str().unwrap(), "--color", "never"])?;
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() || !shown.contains("2 passed, 0 failed") {
        return Err(format!("the twin does not pass both ways:\n{shown}").into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut hinted = false;
    let py2 = root().join(".peers/py2/bin/python");
    let record_missing = !py2.exists();
    let record = Trial::test("record: python-sdk-2/stdio twin", move || {
        record_trial(&py2)
    })
    .with_kind(if record_missing { INSTALL } else { "" })
    .with_ignored_flag(record_missing);
    let mut trials: Vec<Trial> = peers()
        .into_iter()
        .flat_map(|peer| {
            let missing = peer.missing().map(|p| p.display().to_string());
            if let (Some(path), false) = (&missing, hinted) {
                eprintln!("interop: {path} is missing; install the peers with `{INSTALL}` (trials that need them are ignored)");
                hinted = true;
            }
            let name = peer.name;
            let ignored = missing.is_some();
            let kind = if ignored { INSTALL } else { "" };
            let checked = peer.clone();
            [
                Trial::test(name, move || runtime()?.block_on(trial(peer)))
                    .with_kind(kind)
                    .with_ignored_flag(ignored),
                Trial::test(format!("check: {name}"), move || runtime()?.block_on(check_trial(checked)))
                    .with_kind(kind)
                    .with_ignored_flag(ignored),
            ]
        })
        .collect();
    trials.push(record);
    libtest_mimic::run(&args, trials).exit();
}
