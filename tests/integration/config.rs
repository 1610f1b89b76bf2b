//! `cattackle.toml`: good files load with their defaults; bad files give pinned, positioned
//! messages, all of them at once.

use std::time::Duration;

use cattackle_harness::config::{
    HealthCheck, Jitter, Severity, TransportConfig, load_path, load_str, scan_dir,
};

const MINIMAL: &str = r#"
[cattackle]
name = "echo"
version = "0.1.0"
description = "d"

[cattackle.commands]
echo = { description = "e" }

[cattackle.mcp.transport]
type = "stdio"
command = "python"
"#;

#[test]
fn minimal_nested_file_gets_every_default() {
    let loaded = load_str("cattackle.toml", MINIMAL).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    assert_eq!((c.name.as_str(), c.version.as_str()), ("echo", "0.1.0"));
    assert_eq!(c.mcp.timeout, Duration::from_secs(30));
    assert_eq!(c.mcp.max_retries, 3);
    assert_eq!(c.mcp.connect_timeout, Duration::from_secs(10));
    assert_eq!(c.mcp.shutdown_grace, Duration::from_secs(2));
    assert_eq!(c.mcp.health_check, HealthCheck::Liveness);
    assert_eq!(c.mcp.backoff.base, Duration::from_secs(1));
    assert_eq!(c.mcp.backoff.factor, 2.0);
    assert_eq!(c.mcp.backoff.max, Duration::from_secs(30));
    assert_eq!(c.mcp.backoff.jitter, Jitter::None);
    assert_eq!(c.mcp.backoff.seed, None);
    assert_eq!(c.settings.max_payload_size, None);
    assert!(!c.settings.enable_logging);
    let TransportConfig::Stdio(stdio) = &c.mcp.transport else {
        panic!("not stdio")
    };
    assert_eq!(stdio.command, "python");
    assert!(stdio.args.is_empty() && stdio.env.is_empty() && stdio.cwd.is_none());
}

#[test]
fn flat_form_is_accepted() {
    let flat = r#"
name = "flat"
version = "1"
description = "d"
commands = {}
tags = ["x"]
author = "someone"
dependencies = ["y"]

[mcp]
timeout = 5
[mcp.transport]
type = "http"
url = "http://127.0.0.1:8080/mcp"
headers = { Authorization = "Bearer secret" }
"#;
    let loaded = load_str("flat.toml", flat).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    assert_eq!(c.name, "flat");
    assert!(c.commands.is_empty());
    assert_eq!(
        c.mcp.timeout,
        Duration::from_secs(5),
        "an integer timeout is accepted"
    );
    let TransportConfig::Http { url, headers } = &c.mcp.transport else {
        panic!("not http")
    };
    assert_eq!(url, "http://127.0.0.1:8080/mcp");
    assert_eq!(headers["Authorization"], "Bearer secret");
    assert!(
        !format!("{c:?}").contains("Bearer secret"),
        "header values never show in Debug"
    );
}

#[test]
fn every_new_key_is_read() {
    let text = r#"
[cattackle]
name = "full"
version = "2"
description = "d"
[cattackle.commands.echo]
description = "e"
[cattackle.mcp]
timeout = 0.5
max_retries = 0
connect_timeout = 3
health_check = "tools/list"
shutdown_grace = 0
backoff = { base = 0.25, factor = 3, max = 5, jitter = "equal", seed = 7 }
[cattackle.mcp.transport]
type = "websocket"
url = "wss://example.test/mcp"
[cattackle.settings]
max_payload_size = 1024
enable_logging = true
"#;
    let c = load_str("full.toml", text).unwrap().config;
    assert_eq!(c.mcp.timeout, Duration::from_millis(500));
    assert_eq!(c.mcp.max_retries, 0);
    assert_eq!(c.mcp.connect_timeout, Duration::from_secs(3));
    assert_eq!(c.mcp.health_check, HealthCheck::ToolsList);
    assert_eq!(c.mcp.shutdown_grace, Duration::ZERO);
    let b = &c.mcp.backoff;
    assert_eq!(
        (b.base, b.factor, b.max),
        (Duration::from_millis(250), 3.0, Duration::from_secs(5))
    );
    assert_eq!((b.jitter, b.seed), (Jitter::Equal, Some(7)));
    assert_eq!(c.settings.max_payload_size, Some(1024));
    assert!(c.settings.enable_logging);
    assert!(matches!(c.mcp.transport, TransportConfig::WebSocket { .. }));
}

#[test]
fn stdio_keys_are_read() {
    let text = MINIMAL.replace(
        "command = \"python\"",
        "command = \"python\"\nargs = [\"-m\", \"srv\"]\nenv = { LOG = \"1\" }\ncwd = \"/tmp\"",
    );
    let c = load_str("f.toml", &text).unwrap().config;
    let TransportConfig::Stdio(s) = c.mcp.transport else {
        panic!()
    };
    assert_eq!(s.args, ["-m", "srv"]);
    assert_eq!(s.env["LOG"], "1");
    assert_eq!(s.cwd.as_deref(), Some(std::path::Path::new("/tmp")));
}

/// Replaces `from` in the minimal file by `to`, and returns every diagnostic's one-line form.
fn diagnostics(from: &str, to: &str) -> Vec<String> {
    assert!(MINIMAL.contains(from), "case does not apply: {from}");
    let text = MINIMAL.replacen(from, to, 1);
    let diags = match load_str("cattackle.toml", &text) {
        Ok(loaded) => loaded.warnings,
        Err(e) => e.diagnostics().to_vec(),
    };
    diags.iter().map(ToString::to_string).collect()
}

#[test]
fn bad_inputs_give_pinned_messages() {
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "version is an integer",
            "version = \"0.1.0\"",
            "version = 1",
            &[
                "cattackle.toml:4:11: error: `cattackle.version`: expected a string, found integer `1`",
            ],
        ),
        (
            "name missing",
            "name = \"echo\"\n",
            "",
            &["cattackle.toml:2:1: error: missing required key `cattackle.name`"],
        ),
        (
            "unknown transport type, with a suggestion",
            "type = \"stdio\"",
            "type = \"stdi\"",
            &[
                "cattackle.toml:11:8: error: `cattackle.mcp.transport.type`: unknown transport type `stdi`, expected one of `stdio`, `websocket`, `http` (did you mean `stdio`?)",
            ],
        ),
        (
            "transport type missing",
            "type = \"stdio\"\n",
            "",
            &["cattackle.toml:10:1: error: missing required key `cattackle.mcp.transport.type`"],
        ),
        (
            "typo in a key is a warning with the nearest key",
            "[cattackle.mcp.transport]",
            "[cattackle.mcp]\ntimout = 3\n[cattackle.mcp.transport]",
            &[
                "cattackle.toml:11:1: warning: unknown key `timout` in `[cattackle.mcp]`, did you mean `timeout`?",
            ],
        ),
        (
            "negative timeout",
            "[cattackle.mcp.transport]",
            "[cattackle.mcp]\ntimeout = -1\n[cattackle.mcp.transport]",
            &[
                "cattackle.toml:11:11: error: `cattackle.mcp.timeout`: expected a number greater than 0, found `-1`",
            ],
        ),
        (
            "timeout as a string",
            "[cattackle.mcp.transport]",
            "[cattackle.mcp]\ntimeout = \"30s\"\n[cattackle.mcp.transport]",
            &[
                "cattackle.toml:11:11: error: `cattackle.mcp.timeout`: expected a number, found string `\"30s\"`",
            ],
        ),
        (
            "max_retries as a float",
            "[cattackle.mcp.transport]",
            "[cattackle.mcp]\nmax_retries = 2.5\n[cattackle.mcp.transport]",
            &[
                "cattackle.toml:11:15: error: `cattackle.mcp.max_retries`: expected an integer, found float `2.5`",
            ],
        ),
        (
            "unknown jitter",
            "[cattackle.mcp.transport]",
            "[cattackle.mcp.backoff]\njitter = \"ful\"\n[cattackle.mcp.transport]",
            &[
                "cattackle.toml:11:10: error: `cattackle.mcp.backoff.jitter`: unknown jitter `ful`, expected one of `none`, `full`, `equal` (did you mean `full`?)",
            ],
        ),
        (
            "unknown health check",
            "[cattackle.mcp.transport]",
            "[cattackle.mcp]\nhealth_check = \"tools_list\"\n[cattackle.mcp.transport]",
            &[
                "cattackle.toml:11:16: error: `cattackle.mcp.health_check`: unknown health check `tools_list`, expected one of `liveness`, `ping`, `tools/list` (did you mean `tools/list`?)",
            ],
        ),
        (
            "args not strings",
            "command = \"python\"",
            "command = \"python\"\nargs = [\"-m\", 3]",
            &[
                "cattackle.toml:13:15: error: `cattackle.mcp.transport.args[1]`: expected a string, found integer `3`",
            ],
        ),
        (
            "url on a stdio transport",
            "command = \"python\"",
            "command = \"python\"\nurl = \"http://x\"",
            &[
                "cattackle.toml:13:1: warning: key `cattackle.mcp.transport.url` is not used by `stdio` transports",
            ],
        ),
        (
            "http transport with a ws url and no headers table",
            "type = \"stdio\"\ncommand = \"python\"",
            "type = \"http\"\nurl = \"ws://x\"\nheaders = \"Bearer\"",
            &[
                "cattackle.toml:12:7: error: `cattackle.mcp.transport.url`: a `http` transport needs a http:// or https:// URL, found `ws://x`",
                "cattackle.toml:13:11: error: `cattackle.mcp.transport.headers`: expected a table, found string `\"Bearer\"`",
            ],
        ),
        (
            "command description missing",
            "echo = { description = \"e\" }",
            "echo = { descr = \"e\" }",
            &[
                "cattackle.toml:8:8: error: missing required key `cattackle.commands.echo.description`",
                "cattackle.toml:8:10: warning: unknown key `descr` in `[cattackle.commands.echo]`, did you mean `description`?",
            ],
        ),
        (
            "max_payload_size zero",
            "[cattackle.mcp.transport]",
            "[cattackle.settings]\nmax_payload_size = 0\n[cattackle.mcp.transport]",
            &[
                "cattackle.toml:11:20: error: `cattackle.settings.max_payload_size`: expected an integer at least 1",
            ],
        ),
        (
            "invalid TOML",
            "version = \"0.1.0\"",
            "version = \"0.1.0",
            &["cattackle.toml:4:17: error: invalid TOML: invalid basic string, expected `\"`"],
        ),
    ];
    let mut failures = Vec::new();
    for (case, from, to, want) in cases {
        let got = diagnostics(from, to);
        if got != *want {
            failures.push(format!("{case}:\n  want {want:#?}\n  got  {got:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_diagnostic_of_a_file_is_collected() {
    let text = r#"
[cattackle]
version = 1
description = 2
[cattackle.commands]
[cattackle.mcp]
timout = 3
max_retries = -1
[cattackle.mcp.transport]
type = "tcp"
"#;
    let err = load_str("bad.toml", text).unwrap_err();
    let lines: Vec<String> = err.diagnostics().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "bad.toml:2:1: error: missing required key `cattackle.name`",
            "bad.toml:3:11: error: `cattackle.version`: expected a string, found integer `1`",
            "bad.toml:4:15: error: `cattackle.description`: expected a string, found integer `2`",
            "bad.toml:7:1: warning: unknown key `timout` in `[cattackle.mcp]`, did you mean `timeout`?",
            "bad.toml:8:15: error: `cattackle.mcp.max_retries`: expected an integer between 0 and 100",
            "bad.toml:10:8: error: `cattackle.mcp.transport.type`: unknown transport type `tcp`, expected one of `stdio`, `websocket`, `http`",
        ]
    );
    assert_eq!(err.diagnostics()[3].severity, Severity::Warning);
}

#[test]
fn errors_render_rustc_style() {
    let err = load_str(
        "cattackles/x/cattackle.toml",
        &MINIMAL.replace("version = \"0.1.0\"", "version = 1"),
    )
    .unwrap_err();
    insta::assert_snapshot!("config_error_rendered", err.render());
}

#[test]
fn directory_and_registry_scan() {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in [
        ("a", MINIMAL.to_owned()),
        ("b", MINIMAL.replace("version = \"0.1.0\"", "version = 1")),
    ] {
        std::fs::create_dir(dir.path().join(name)).unwrap();
        std::fs::write(dir.path().join(name).join("cattackle.toml"), body).unwrap();
    }
    std::fs::create_dir(dir.path().join("not-a-cattackle")).unwrap();
    let loaded = load_path(dir.path().join("a")).unwrap();
    assert_eq!(loaded.config.name, "echo");
    assert_eq!(
        loaded.config.source.as_deref(),
        Some(dir.path().join("a").join("cattackle.toml").as_path())
    );
    let entries = scan_dir(dir.path()).unwrap();
    assert_eq!(entries.len(), 2, "immediate children with a cattackle.toml");
    assert!(entries[0].is_ok());
    let err = entries[1].as_ref().unwrap_err();
    assert!(
        err.to_string().contains("b/cattackle.toml:4:11: error"),
        "{err}"
    );
    let missing = load_path(dir.path().join("not-a-cattackle")).unwrap_err();
    assert!(
        missing.to_string().ends_with("holds no cattackle.toml"),
        "{missing}"
    );
}

#[test]
fn shipped_echo_config_loads_cleanly() {
    let loaded = load_path(concat!(env!("CARGO_MANIFEST_DIR"), "/cattackles/echo")).unwrap();
    assert!(loaded.warnings.is_empty(), "{}", loaded.render_warnings());
    assert_eq!(loaded.config.commands.len(), 3);
}

#[test]
fn resilience_keys_are_read_with_their_defaults() {
    let c = load_str("cattackle.toml", MINIMAL).unwrap().config;
    assert_eq!(
        (
            c.mcp.deadline,
            &c.mcp.breaker,
            c.mcp.max_in_flight,
            &c.mcp.fallback
        ),
        (None, &None, None, &None),
        "all off by default: the original's behaviour"
    );
    assert!(
        c.commands["echo"].idempotent,
        "commands are idempotent by default"
    );
    let text = MINIMAL
        .replace(
            "echo = { description = \"e\" }",
            "echo = { description = \"e\", idempotent = false }",
        )
        .replace(
            "[cattackle.mcp.transport]",
            "[cattackle.mcp]\ndeadline = 12.5\nfallback = \"resting\"\n\
             [cattackle.mcp.breaker]\nconsecutive_failures = 2\nmax = 60\n\
             [cattackle.mcp.transport]",
        );
    let c = load_str("cattackle.toml", &text).unwrap().config;
    assert!(!c.commands["echo"].idempotent);
    assert_eq!(c.mcp.deadline, Some(Duration::from_millis(12_500)));
    assert_eq!(c.mcp.fallback.as_deref(), Some("resting"));
    let b = c.mcp.breaker.expect("a breaker table turns it on");
    assert_eq!(b.consecutive_failures, 2);
    assert_eq!(b.max, Duration::from_secs(60));
    assert_eq!(
        (b.failure_rate, b.window, b.min_calls, b.base, b.factor),
        (0.5, 10, 5, Duration::from_secs(30), 2.0),
        "the documented defaults"
    );
}

#[test]
fn bad_resilience_keys_are_positioned() {
    let with = |mcp: &str| {
        let text = MINIMAL.replace(
            "[cattackle.mcp.transport]",
            &format!("{mcp}\n[cattackle.mcp.transport]"),
        );
        match load_str("cattackle.toml", &text) {
            Ok(loaded) => loaded
                .warnings
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            Err(e) => e.diagnostics().iter().map(ToString::to_string).collect(),
        }
    };
    assert_eq!(
        with("[cattackle.mcp.breaker]\nfailure_rate = 1.5"),
        [
            "cattackle.toml:11:16: error: `cattackle.mcp.breaker.failure_rate`: a rate is at most 1 (all attempts failed), found 1.5"
        ]
    );
    let typo = with("[cattackle.mcp.breaker]\nconsecutive_failure = 3");
    assert!(
        typo[0].contains("did you mean `consecutive_failures`"),
        "{typo:?}"
    );
    let zero = with("[cattackle.mcp]\ndeadline = 0");
    assert!(zero[0].contains("`cattackle.mcp.deadline`"), "{zero:?}");
}

#[test]
fn keepalive_keys_are_read() {
    let text = MINIMAL.replace(
        "[cattackle.mcp.transport]",
        "[cattackle.mcp]\nkeepalive_interval = 15\nkeepalive_failures = 3\nidle_timeout = 600\n\
         reconnect = \"eager\"\n[cattackle.mcp.transport]",
    );
    let c = load_str("cattackle.toml", &text).unwrap().config;
    assert_eq!(c.mcp.keepalive_interval, Some(Duration::from_secs(15)));
    assert_eq!(c.mcp.keepalive_failures, 3);
    assert_eq!(c.mcp.idle_timeout, Some(Duration::from_secs(600)));
    assert_eq!(c.mcp.reconnect, cattackle_harness::config::Reconnect::Eager);
    let bad = MINIMAL.replace(
        "[cattackle.mcp.transport]",
        "[cattackle.mcp]\nreconnect = \"eagr\"\n[cattackle.mcp.transport]",
    );
    let e = load_str("cattackle.toml", &bad).unwrap_err().render();
    assert!(e.contains("did you mean `eager`"), "{e}");
}

#[test]
fn diagnostics_never_quote_env_header_or_url_secrets() {
    let text = "name = \"x\"\nversion = \"1\"\ndescription = \"d\"\ncommands = {}\n\
                [mcp]\ntimout = 3\n[mcp.transport]\ntype = \"stdio\"\ncommand = \"c\"\n\
                env = { API_KEY = \"sk-live-DIAG1\", PORT = 5 }\n";
    let err = match cattackle_harness::config::load_str("x.toml", text) {
        Err(e) => e.render(),
        Ok(_) => panic!("PORT is not a string"),
    };
    assert!(!err.contains("sk-live-DIAG1"), "{err}");
    assert!(
        err.contains("env = { API_KEY = \"*************\", PORT = * }"),
        "masked in place: {err}"
    );
    assert!(err.contains("x.toml:10:"), "positions hold: {err}");
    let text = "name = \"x\"\nversion = \"1\"\ndescription = \"d\"\ncommands = {}\n\
                [mcp]\ntimout = 3\n[mcp.transport]\ntype = \"http\"\nurl = \"https://bob:pw-DIAG2@h.test/mcp?key=q-DIAG3\"\n\
                headers = { Authorization = \"Bearer h-DIAG4\" }\n";
    let loaded =
        cattackle_harness::config::load_str("y.toml", text).expect("loads, with a warning");
    let warnings = loaded.render_warnings();
    assert!(warnings.contains("did you mean `timeout`?"), "{warnings}");
    for secret in ["pw-DIAG2", "q-DIAG3", "h-DIAG4"] {
        assert!(
            !loaded.source_text.contains(secret),
            "{secret} in the text diagnostics render from"
        );
    }
}
