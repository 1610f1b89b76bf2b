//! The spawn policy: what can never be spawned, or would run code nobody asked for, is a
//! configuration error at load (with its position) or at spawn (never retried, exit 2); the
//! child's environment is what the configuration says, and its program is found on the parent's
//! `PATH`.

use std::time::Duration;

use cattackle_harness::config::{InheritEnv, Severity, TransportConfig, load_str};
use cattackle_harness::manager::{ErrorKind, McpClientManager, Payload};

use crate::support::cli::{cattackle, text};
use crate::support::config_with;
use crate::support::processes::echo_binary;

fn toml(transport: &str) -> String {
    format!(
        "[cattackle]\nname = \"p\"\nversion = \"0.1.0\"\ndescription = \"d\"\n\
         [cattackle.commands]\necho = {{ description = \"e\" }}\n\
         [cattackle.mcp.transport]\n{transport}\n"
    )
}

/// The error diagnostics of a file that must not load, as "LINE:COL message".
fn errors(transport: &str) -> Vec<String> {
    let e = load_str("cattackle.toml", &toml(transport)).expect_err("must not load");
    e.diagnostics()
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
        .collect()
}

#[test]
fn injection_variables_are_refused_at_their_key_unless_allowed() {
    let stdio = "type = \"stdio\"\ncommand = \"x\"\n";
    let got = errors(&format!(
        "{stdio}env = {{ LD_PRELOAD = \"/tmp/planted-secret.so\", NODE_OPTIONS = \"-r x\" }}"
    ));
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[0].starts_with("10:9 `cattackle.mcp.transport.env.LD_PRELOAD` makes the child"),
        "{got:?}"
    );
    assert!(got[1].contains("env.NODE_OPTIONS"), "{got:?}");
    let rendered = load_str(
        "cattackle.toml",
        &toml(&format!(
            "{stdio}env = {{ LD_PRELOAD = \"/tmp/planted-secret.so\" }}"
        )),
    )
    .unwrap_err()
    .render();
    assert!(
        rendered.contains("allow_env = [\"LD_PRELOAD\"]"),
        "{rendered}"
    );
    assert!(!rendered.contains("planted-secret"), "{rendered}");
    // Named in allow_env: it loads.
    let ok = load_str(
        "cattackle.toml",
        &toml(&format!(
            "{stdio}allow_env = [\"LD_PRELOAD\"]\nenv = {{ LD_PRELOAD = \"/x.so\" }}\n\
             inherit_env = [\"HOME\"]"
        )),
    )
    .unwrap();
    let TransportConfig::Stdio(s) = ok.config.mcp.transport else {
        panic!("stdio")
    };
    assert_eq!(s.allow_env, ["LD_PRELOAD"]);
    assert_eq!(s.inherit_env, InheritEnv::Only(vec!["HOME".to_owned()]));
}

#[test]
fn nul_bytes_bad_env_names_and_unsendable_headers_are_load_errors_at_their_key() {
    let got = errors("type = \"stdio\"\ncommand = \"x\"\nargs = [\"a\", \"b\\u0000\"]");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with("10:14 `cattackle.mcp.transport.args[1]`: holds a NUL byte"),
        "{got:?}"
    );
    let got = errors("type = \"stdio\"\ncommand = \"x\"\nenv = { \"A=B\" = \"v\" }");
    assert!(got[0].contains("cannot name a variable"), "{got:?}");
    let got = errors("type = \"stdio\"\ncommand = \"x\"\ninherit_env = 3");
    assert!(
        got[0].contains("a boolean or an array of variable names"),
        "{got:?}"
    );
    let rendered = load_str(
        "cattackle.toml",
        &toml("type = \"http\"\nurl = \"http://127.0.0.1:1/mcp\"\nheaders = { Authorization = \"Bearer planted\\nsecret\", \"bad name\" = \"x\" }"),
    )
    .unwrap_err()
    .render();
    assert!(
        rendered.contains("headers.Authorization`: the value cannot be sent"),
        "{rendered}"
    );
    assert!(
        rendered.contains("`bad name` is not a header name"),
        "{rendered}"
    );
    assert!(!rendered.contains("planted"), "{rendered}");
}

#[tokio::test]
async fn a_missing_cwd_is_reported_as_such_at_once_and_never_retried() {
    let cfg = config_with(
        "max_retries = 3\nbackoff = { base = 5 }",
        &format!(
            "type = \"stdio\"\ncommand = {:?}\ncwd = \"/nonexistent/cattackle-cwd\"",
            echo_binary().display().to_string()
        ),
    );
    let manager = McpClientManager::new();
    let started = tokio::time::Instant::now();
    let err = manager
        .call(&cfg, "echo", Payload::text("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Misconfigured, "{err}");
    assert!(
        err.to_string()
            .contains("`cwd` /nonexistent/cattackle-cwd is not a directory"),
        "{err}"
    );
    // Not retried: a retry would have waited the 5 s backoff.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // The next call is refused the same way, and a good configuration still works.
    let again = manager
        .call(&cfg, "echo", Payload::text("y"))
        .await
        .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Misconfigured);
}

#[test]
fn the_cli_exits_2_for_a_configuration_that_cannot_be_spawned() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cattackle.toml"),
        toml("type = \"stdio\"\ncommand = \"echo-cattackle\"\ncwd = \"/nonexistent/cwd\""),
    )
    .unwrap();
    let out = cattackle(&[
        "call",
        &dir.path().display().to_string(),
        "echo",
        "--text",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("is misconfigured: `cwd`"), "{stderr}");
    assert!(!stderr.contains("attempt 2"), "retried: {stderr}");
}

/// `cattackle call` on a cattackle whose shell checks its environment (`checks`, exiting with a
/// distinct code when one fails) before it becomes the echo cattackle; run with the parent's
/// `RUST_LOG` and `PARENT_VAR` set.
fn env_checked(checks: &str, transport_extra: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let script = format!("{checks} exec \"$ECHO\" --transport stdio");
    std::fs::write(
        dir.path().join("cattackle.toml"),
        toml(&format!(
            "type = \"stdio\"\ncommand = \"sh\"\nargs = [\"-c\", {script:?}]\n{transport_extra}"
        ))
        .replace(
            "[cattackle.mcp.transport]",
            "[cattackle.mcp]\nmax_retries = 0\n[cattackle.mcp.transport]",
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cattackle"))
        .args([
            "call",
            &dir.path().display().to_string(),
            "echo",
            "--text",
            "env ok",
        ])
        .env("RUST_LOG", "warn")
        .env("PARENT_VAR", "1")
        .output()
        .unwrap();
    (
        out.status.code(),
        format!("{}{}", text(&out.stdout), text(&out.stderr)),
    )
}

#[test]
fn the_child_gets_the_environment_the_configuration_says() {
    let echo = format!("ECHO = {:?}", echo_binary().display().to_string());
    // By default: the parent's variables, `env` on top, but never the manager's RUST_LOG.
    let (code, out) = env_checked(
        "test -z \"${RUST_LOG:-}\" || exit 7; test \"$PARENT_VAR\" = 1 || exit 8; test \"$MINE\" = yes || exit 9;",
        &format!("env = {{ MINE = \"yes\", {echo} }}"),
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("env ok"), "{out}");
    // RUST_LOG set in `env` is passed on.
    let (code, out) = env_checked(
        "test \"$RUST_LOG\" = debug || exit 7;",
        &format!("env = {{ RUST_LOG = \"debug\", {echo} }}"),
    );
    assert_eq!(code, Some(0), "{out}");
    // inherit_env = ["PATH"]: nothing else of the parent's.
    let (code, out) = env_checked(
        "test -z \"${PARENT_VAR:-}\" || exit 8; test -n \"$PATH\" || exit 9;",
        &format!("inherit_env = [\"PATH\"]\nenv = {{ {echo} }}"),
    );
    assert_eq!(code, Some(0), "{out}");
    // And the check can fail: a child that wants PARENT_VAR without it does not start.
    let (code, _) = env_checked(
        "test \"${PARENT_VAR:-}\" = 1 || exit 8;",
        &format!("inherit_env = false\nenv = {{ {echo} }}"),
    );
    assert_eq!(code, Some(3));
}

#[tokio::test]
async fn the_program_is_found_on_the_parents_path_not_on_one_set_in_env() {
    let dir = tempfile::tempdir().unwrap();
    // A planted `sh` on the PATH of the child's env: it must not be the one run.
    let planted = dir.path().join("sh");
    std::fs::write(&planted, "#!/bin/sh\necho planted > \"$0.ran\"\nexit 3\n").unwrap();
    std::fs::set_permissions(
        &planted,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let script = format!("exec {} --transport stdio", echo_binary().display());
    let cfg = config_with(
        "max_retries = 0",
        &format!(
            "type = \"stdio\"\ncommand = \"sh\"\nargs = [\"-c\", {script:?}]\n\
             env = {{ PATH = {:?} }}",
            format!("{}:/usr/bin:/bin", dir.path().display())
        ),
    );
    let manager = McpClientManager::new();
    let got = manager.call(&cfg, "echo", Payload::text("real sh")).await;
    assert_eq!(
        got.map(|r| r.data).map_err(|e| e.to_string()),
        Ok("real sh".to_owned())
    );
    assert!(!dir.path().join("sh.ran").exists(), "the planted sh ran");
}
