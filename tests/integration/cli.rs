//! The `cattackle` binary: output and documented exit codes.

use std::process::{Command, Output};

use crate::support::processes::echo_binary;

fn cattackle(args: &[&str]) -> Output {
    // The CLI finds `echo-cattackle` beside itself (both live in the same target directory).
    echo_binary();
    Command::new(env!("CARGO_BIN_EXE_cattackle"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .output()
        .expect("run cattackle")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn call_prints_data_and_exits_0() {
    let out = cattackle(&["call", "cattackles/echo", "echo", "--text", "hello"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello\n");
}

#[test]
fn call_json_prints_the_whole_response() {
    let out = cattackle(&[
        "call",
        "cattackles/echo/cattackle.toml",
        "echo",
        "--param",
        "a",
        "--param",
        "b",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"data": "a; b", "error": null, "is_error": false})
    );
}

#[test]
fn a_cattackle_reported_error_exits_1() {
    let out = cattackle(&["call", "cattackles/echo", "joke"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("error: cattackle reported: Please provide some text"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_unreachable_cattackle_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cattackle.toml");
    std::fs::write(
        &file,
        "name = \"gone\"\nversion = \"1\"\ndescription = \"d\"\ncommands = { echo = { description = \"e\" } }\n\
         [mcp]\nmax_retries = 0\n[mcp.transport]\ntype = \"stdio\"\ncommand = \"/nonexistent/x\"\n",
    )
    .unwrap();
    let out = cattackle(&["call", file.to_str().unwrap(), "echo", "--text", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("failed to start `/nonexistent/x`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_undeclared_command_and_a_bad_config_exit_2() {
    let out = cattackle(&["call", "cattackles/echo", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("has no command `nope` (known: echo, joke, ping)"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cattackle.toml");
    std::fs::write(&file, "[cattackle]\nname = \"x\"\nversion = 1\n").unwrap();
    let out = cattackle(&["call", file.to_str().unwrap(), "echo"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("cattackle.toml:3:11"), "{stderr}");
    assert!(
        stderr.contains("missing required key `cattackle.description`"),
        "{stderr}"
    );

    let out = cattackle(&["call", "cattackles/echo", "echo", "--payload", "[1]"]);
    assert_eq!(out.status.code(), Some(2));
    let out = cattackle(&["call"]);
    assert_eq!(out.status.code(), Some(2), "clap usage errors exit 2 too");
}

#[test]
fn list_shows_commands_and_transport_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("web")).unwrap();
    std::fs::write(
        dir.path().join("web/cattackle.toml"),
        "name = \"web\"\nversion = \"1\"\ndescription = \"d\"\ncommands = { go = { description = \"g\" } }\n\
         [mcp.transport]\ntype = \"http\"\nurl = \"https://user:pw@example.test/mcp?token=s3cret\"\nheaders = { Authorization = \"Bearer s3cret\" }\n",
    )
    .unwrap();
    let out = cattackle(&["list", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("web 1 (http: https://example.test/mcp)"),
        "{stdout}"
    );
    assert!(stdout.contains("/web_go  g"), "{stdout}");
    assert!(
        !stdout.contains("s3cret") && !stdout.contains("pw@"),
        "{stdout}"
    );

    let out = cattackle(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("echo 0.1.0 (stdio: echo-cattackle --transport stdio)"));
}
