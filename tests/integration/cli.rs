//! The `cattackle` binary: output and documented exit codes.

use crate::support::cli::{cattackle, text};
use crate::support::processes::echo_binary;

#[test]
fn call_prints_data_and_exits_0() {
    let out = cattackle(&["call", "cattackles/echo", "echo", "--text", "hello"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello\n");
}

#[test]
fn call_metrics_go_to_stderr_in_openmetrics_text() {
    let out = cattackle(&[
        "call",
        "cattackles/echo",
        "echo",
        "--text",
        "hi",
        "--metrics",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hi\n", "stdout keeps the data alone");
    let metrics = text(&out.stderr);
    for line in [
        "cattackle_calls_total{cattackle=\"echo\",outcome=\"ok\"} 1",
        "cattackle_attempts_total{cattackle=\"echo\"} 1",
        "cattackle_sessions_live{cattackle=\"echo\"} 0",
        "# EOF",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    assert!(
        !metrics.contains("\"hi\""),
        "no payload in labels: {metrics}"
    );
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
fn an_unreachable_cattackle_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cattackle.toml");
    std::fs::write(
        &file,
        "name = \"gone\"\nversion = \"1\"\ndescription = \"d\"\ncommands = { echo = { description = \"e\" } }\n\
         [mcp]\nmax_retries = 0\n[mcp.transport]\ntype = \"stdio\"\ncommand = \"/nonexistent/x\"\n",
    )
    .unwrap();
    let out = cattackle(&["call", file.to_str().unwrap(), "echo", "--text", "x"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("failed to start `/nonexistent/x`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_unavailable_cattackle_prints_its_fallback_on_stdout_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cattackle.toml");
    std::fs::write(
        &file,
        "name = \"gone\"\nversion = \"1\"\ndescription = \"d\"\ncommands = { echo = { description = \"e\" } }\n\
         [mcp]\nmax_retries = 1\nfallback = \"Echo is resting, try again in a minute\"\n\
         backoff = { base = 0.01 }\n[mcp.transport]\ntype = \"stdio\"\ncommand = \"/nonexistent/x\"\n",
    )
    .unwrap();
    let out = cattackle(&["call", file.to_str().unwrap(), "echo", "--text", "x"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "Echo is resting, try again in a minute\n"
    );
    assert!(
        text(&out.stderr).contains("failed to start `/nonexistent/x`"),
        "the reason stays on stderr: {}",
        text(&out.stderr)
    );
}

#[test]
fn a_failing_start_shows_the_stderr_tail_once_with_the_final_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cattackle.toml");
    std::fs::write(
        &file,
        "name = \"dies\"\nversion = \"1\"\ndescription = \"d\"\ncommands = { echo = { description = \"e\" } }\n\
         [mcp]\nmax_retries = 2\nbackoff = { base = 0.01 }\n[mcp.transport]\ntype = \"stdio\"\ncommand = \"sh\"\n\
         args = [\"-c\", \"echo missing-module-xyz >&2; exit 1\"]\n",
    )
    .unwrap();
    let out = cattackle(&["call", file.to_str().unwrap(), "echo", "--text", "x"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.matches("missing-module-xyz").count(), 1, "{stderr}");
    assert_eq!(
        stderr.matches("attempt ").count(),
        2,
        "one line per retried attempt: {stderr}"
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

/// The misbehaving stdio cattackle: `cattackle mock-server` serving `fixtures/misbehaving/`.
const MISBEHAVING: &str = "fixtures/misbehaving";

#[test]
fn is_error_with_plain_text_prints_the_servers_text_and_exits_1() {
    let out = cattackle(&["call", MISBEHAVING, "fails"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "error: the cattackle reported a tool error (isError): Error executing tool fails: kaboom\n",
        "the text once, not a parser's complaint"
    );
    let out = cattackle(&["call", MISBEHAVING, "fails", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"data": "", "error": "Error executing tool fails: kaboom", "is_error": true})
    );
}

#[test]
fn an_answer_without_data_succeeds_empty_and_warns() {
    let out = cattackle(&["call", MISBEHAVING, "nodata"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "\n");
    assert!(
        text(&out.stderr).contains("warning: the cattackle's answer has no `data`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_timed_out_call_exits_4_at_once_without_waiting_out_the_grace() {
    echo_binary(); // built once, outside the measured run
    let start = std::time::Instant::now();
    let out = cattackle(&["call", MISBEHAVING, "slow"]);
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr).matches("timed out after 0.5s").count(),
        1,
        "the final error once: {}",
        text(&out.stderr)
    );
    // The busy child is interrupted, not given its 2 s shutdown grace to notice an EOF.
    assert!(took < std::time::Duration::from_millis(2000), "{took:?}");
}

#[test]
fn the_contract_payload_always_has_accumulated_params() {
    // The `args` tool answers with its accumulated_params as `data`: an array, which the CLI
    // rejects, quoting the answer, so the test sees exactly what was sent.
    let out = cattackle(&["call", MISBEHAVING, "args", "--text", "t"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(r#""{\"data\":[],\"error\":null}""#),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn raw_calls_any_tool_with_exact_arguments_and_prints_the_mcp_result() {
    let out = cattackle(&[
        "call",
        "--raw",
        MISBEHAVING,
        "echo",
        "--args",
        r#"{"text": "x"}"#,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["content"][0]["text"], r#"{"data":"x","error":null}"#);
    assert_eq!(v["isError"], false);

    let out = cattackle(&["call", "--raw", MISBEHAVING, "fails"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["isError"], true);
    assert_eq!(
        v["content"][0]["text"],
        "Error executing tool fails: kaboom"
    );

    // Not declared in the toml: sent anyway; the server's own error comes back.
    let out = cattackle(&["call", "--raw", MISBEHAVING, "undeclared"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("Unknown tool: undeclared"),
        "{}",
        text(&out.stderr)
    );

    let out = cattackle(&["call", "--raw", MISBEHAVING, "echo", "--args", "[1]"]);
    assert_eq!(out.status.code(), Some(2));
    let out = cattackle(&["call", MISBEHAVING, "echo", "--args", "{}"]);
    assert_eq!(out.status.code(), Some(2), "--args needs --raw");
}

#[test]
fn list_warns_about_names_that_routing_cannot_tell_apart() {
    let dir = tempfile::tempdir().unwrap();
    for (folder, name) in [("a", "dup"), ("b", "dup"), ("c", "my_cat")] {
        std::fs::create_dir(dir.path().join(folder)).unwrap();
        std::fs::write(
            dir.path().join(folder).join("cattackle.toml"),
            format!(
                "name = \"{name}\"\nversion = \"1\"\ndescription = \"d\"\ncommands = {{ go = {{ description = \"g\" }} }}\n\
                 [mcp.transport]\ntype = \"stdio\"\ncommand = \"x\"\n"
            ),
        )
        .unwrap();
    }
    let out = cattackle(&["list", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("warning: cattackle name `dup` is used twice"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: cattackle name `my_cat` contains `_`"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("warning:").count(), 2, "{stderr}");
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

#[test]
fn list_tools_shows_the_servers_hints_beside_the_retry_setting() {
    // `fixtures/` holds one cattackle directory: the misbehaving mock.
    let out = cattackle(&["list", "--tools", "fixtures"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("/misbehaving_echo  Echoes the text.  [retried after a timeout; listed, hints: idempotentHint=true readOnlyHint=true]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  + tool `extra` listed by the server, not declared"),
        "{stdout}"
    );
    assert_eq!(
        stderr.matches("warning:").count(),
        1,
        "one warning, for the tool hinted as not idempotent: {stderr}"
    );
    assert!(
        stderr.contains(
            "the server hints that `fails` is not idempotent, but a timed-out call is retried"
        ),
        "{stderr}"
    );
}

#[test]
fn list_tools_names_the_cattackle_it_could_not_ask_and_exits_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("gone")).unwrap();
    std::fs::write(
        dir.path().join("gone/cattackle.toml"),
        "name = \"gone\"\nversion = \"1\"\ndescription = \"d\"\ncommands = { go = { description = \"g\" } }\n\
         [mcp]\nconnect_timeout = 2\n[mcp.transport]\ntype = \"stdio\"\ncommand = \"definitely-not-a-program-here\"\n",
    )
    .unwrap();
    let out = cattackle(&["list", "--tools", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("/gone_go  g"),
        "the declared commands still show: {stdout}"
    );
    assert!(
        stdout.contains("(its tools could not be listed: cattackle 'gone' could not be started"),
        "{stdout}"
    );
}

#[test]
fn a_url_query_secret_never_reaches_warnings_or_the_final_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cattackle.toml"),
        "name = \"leak\"\nversion = \"1\"\ndescription = \"d\"\ncommands = { echo = { description = \"e\" } }\n\
         [mcp]\nmax_retries = 1\nconnect_timeout = 2\nbackoff = { base = 0.05 }\n\
         [mcp.transport]\ntype = \"http\"\nurl = \"http://user:pw-Q7@127.0.0.1:9/mcp?token=tok-Q7s3cret\"\nheaders = { Authorization = \"Bearer hdr-Q7s3cret\" }\n",
    )
    .unwrap();
    let out = cattackle(&[
        "-vv",
        "call",
        dir.path().to_str().unwrap(),
        "echo",
        "--text",
        "hi",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        all.contains("attempt 1 of 2 failed"),
        "the warning is there: {all}"
    );
    for secret in ["tok-Q7s3cret", "hdr-Q7s3cret", "pw-Q7"] {
        assert!(!all.contains(secret), "{secret} leaked: {all}");
    }
    assert!(all.contains("token=[redacted]"), "{all}");
}
