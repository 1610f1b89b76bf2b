//! Signals to `cattackle` mid-call leave no process behind: the cattackle child, its
//! grandchildren (one of which left the group with `setsid`), and a scenario's `launch`ed server
//! are all gone, and the exit code is the conventional one. A normal end sweeps an escaped
//! grandchild too.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::support::processes::{echo_binary, is_running, pids_in};

const CATTACKLE: &str = env!("CARGO_BIN_EXE_cattackle");

/// The running descendants of `root`, from `/proc`'s parent links.
fn descendants(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let mut rest = stat.rsplit(')').next().unwrap_or("").split_whitespace();
        let (_, Some(parent)) = (rest.next(), rest.next().and_then(|p| p.parse::<u32>().ok()))
        else {
            continue;
        };
        parents.push((pid, parent));
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let of = found[i];
        found.extend(parents.iter().filter(|(_, p)| *p == of).map(|(c, _)| *c));
        i += 1;
    }
    found.remove(0);
    found.into_iter().filter(|p| is_running(*p)).collect()
}

/// Polls (real time, bounded) until `ready` holds.
fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    ready()
}

fn send(child: &Child, signal: libc::c_int) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
}

/// Waits (bounded) for `child` to exit; its exit code, or it is killed and the test fails.
fn exit_code(child: &mut Child, limit: Duration) -> i32 {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().expect("exited, not killed by a signal");
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = child.kill();
    panic!("cattackle did not exit within {limit:?} of the signal");
}

/// A cattackle whose command is a shell launcher: it starts a plain background grandchild and a
/// `setsid` one, writes every pid to `pids`, runs `before_exec`, then becomes `exec`. Returns
/// the file of pids.
fn launcher(dir: &Path, exec: &str, before_exec: &str) -> std::path::PathBuf {
    let pids = dir.join("pids");
    let script = format!(
        "echo $$ >> {p}; sleep 300 </dev/null >/dev/null 2>&1 & echo $! >> {p}; \
         setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! >> {p}; {before_exec} exec {exec}",
        p = pids.display(),
    );
    let toml = format!(
        r#"[cattackle]
name = "launcher"
version = "0.1.0"
description = "a shell launcher with grandchildren"

[cattackle.commands]
echo = {{ description = "Echoes." }}

[cattackle.mcp]
timeout = 60
max_retries = 0

[cattackle.mcp.transport]
type = "stdio"
command = "sh"
args = ["-c", {script:?}]
"#
    );
    std::fs::write(dir.join("cattackle.toml"), toml).unwrap();
    pids
}

/// A scenario whose mock never answers `echo`, served by `cattackle mock-server`.
fn hanging_mock(dir: &Path) -> String {
    let scenario = dir.join("hang.yaml");
    std::fs::write(
        &scenario,
        "name: never answers\ncattackle: { file: cattackle.toml }\n\
         faults:\n  - match: { tool: echo }\n    hang: true\n\
         steps:\n  - call: { command: echo, text: x }\n",
    )
    .unwrap();
    format!("{CATTACKLE} mock-server {}", scenario.display())
}

fn call(dir: &Path) -> Child {
    Command::new(CATTACKLE)
        .args(["call", &dir.display().to_string(), "echo", "--text", "x"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs a call that hangs, sends `signal` once every pid is written, and checks the exit code
/// and that nothing the call started still runs.
fn signalled_mid_call(signal: libc::c_int, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let exec = hanging_mock(dir.path());
    let pids = launcher(dir.path(), &exec, "");
    let mut child = call(dir.path());
    assert!(
        wait_until(Duration::from_secs(20), || pids_in(&pids).len() == 3
            && descendants(child.id()).len() >= 3),
        "the launcher did not start: {:?}",
        pids_in(&pids)
    );
    let started = descendants(child.id());
    // The call is in flight (the mock never answers): let it reach the tools/call.
    std::thread::sleep(Duration::from_millis(500));
    send(&child, signal);
    assert_eq!(exit_code(&mut child, Duration::from_secs(10)), code);
    let mut all = pids_in(&pids);
    all.extend(started);
    assert!(
        wait_until(Duration::from_secs(3), || all
            .iter()
            .all(|p| !is_running(*p))),
        "still running after the signal: {:?} of {all:?}",
        all.iter().filter(|p| is_running(**p)).collect::<Vec<_>>()
    );
}

#[test]
fn sigint_mid_call_stops_the_child_its_grandchildren_and_an_escaped_one_and_exits_130() {
    signalled_mid_call(libc::SIGINT, 130);
}

#[test]
fn sigterm_and_sighup_mid_call_exit_143_and_129_leaving_nothing() {
    signalled_mid_call(libc::SIGTERM, 143);
    signalled_mid_call(libc::SIGHUP, 129);
}

#[test]
fn a_second_ctrl_c_kills_a_child_that_ignores_sigterm_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // The launcher becomes a process that ignores SIGTERM and never answers (the call waits in
    // its handshake): only SIGKILL ends it.
    let pids = launcher(dir.path(), "sleep 300", "trap '' TERM;");
    let mut child = call(dir.path());
    assert!(wait_until(Duration::from_secs(20), || pids_in(&pids).len() == 3));
    std::thread::sleep(Duration::from_millis(500));
    send(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(200));
    send(&child, libc::SIGINT);
    assert_eq!(exit_code(&mut child, Duration::from_secs(10)), 130);
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("SIGINT: killing them now"), "{stderr}");
    let all = pids_in(&pids);
    assert!(
        wait_until(Duration::from_secs(3), || all
            .iter()
            .all(|p| !is_running(*p))),
        "still running: {:?}",
        all.iter().filter(|p| is_running(**p)).collect::<Vec<_>>()
    );
}

#[test]
fn a_normal_end_kills_the_grandchild_that_escaped_with_setsid() {
    let dir = tempfile::tempdir().unwrap();
    let exec = format!("{} --transport stdio", echo_binary().display());
    let pids = launcher(dir.path(), &exec, "");
    let out = call(dir.path()).wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = pids_in(&pids);
    assert_eq!(all.len(), 3);
    assert!(
        wait_until(Duration::from_secs(3), || all
            .iter()
            .all(|p| !is_running(*p))),
        "left running after the call: {:?}",
        all.iter().filter(|p| is_running(**p)).collect::<Vec<_>>()
    );
}

#[test]
fn sigterm_to_cattackle_test_stops_a_launched_server() {
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let scenario = dir.path().join("launched.yaml");
    std::fs::write(
        &scenario,
        format!(
            "name: a launched server behind a hang\nserver: real\n\
             launch:\n  command: {echo}\n  args: [--transport, websocket, --port, \"{{port}}\"]\n\
             cattackle:\n  file: {root}/fixtures/echo-websocket.toml\n  overrides: {{ mcp: {{ timeout: 60 }} }}\n\
             faults:\n  - match: {{ tool: echo }}\n    hang: true\n\
             steps:\n  - call: {{ command: echo, text: x }}\n    expect: {{ ok: {{ data: x }} }}\n",
            echo = echo_binary().display()
        ),
    )
    .unwrap();
    let mut child = Command::new(CATTACKLE)
        .args(["test", &scenario.display().to_string()])
        .env_remove("RUST_LOG")
        .env_remove("CI")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(20), || !descendants(child.id())
            .is_empty()),
        "no server was launched"
    );
    let launched = descendants(child.id());
    std::thread::sleep(Duration::from_millis(500));
    send(&child, libc::SIGTERM);
    assert_eq!(exit_code(&mut child, Duration::from_secs(10)), 143);
    assert!(
        wait_until(Duration::from_secs(3), || launched
            .iter()
            .all(|p| !is_running(*p))),
        "the launched server survived: {launched:?}"
    );
}
