//! `cattackle record`: a real cattackle recorded into its mocked twin, which then passes against
//! the mock and against the real server.

use super::support::cli::{cattackle, text};

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "cattackle-record-{}-{name}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_twin(path: &std::path::Path) -> String {
    let out = cattackle(&["test", path.to_str().unwrap(), "--color", "never"]);
    let shown = text(&out.stdout) + &text(&out.stderr);
    assert!(out.status.success(), "the twin fails:\n{shown}");
    shown
}

#[test]
fn a_stdio_cattackle_recorded_passes_as_its_twin_and_as_itself() {
    let dir = tmp("stdio");
    let scenario = dir.join("twin.yaml");
    let out = cattackle(&[
        "record",
        "cattackles/echo",
        "--call",
        "echo",
        "--text",
        "first words",
        "--call",
        "ping",
        "--call",
        "echo",
        "--text",
        "second",
        "--call",
        "joke",
        "-o",
        scenario.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("recorded 3 tool(s) and 4 call(s)"));
    let written = std::fs::read_to_string(&scenario).unwrap();
    // Each text goes with the call before it; the call without one sends none.
    assert!(written.contains(r#"- call: {"command":"echo","text":"first words"}"#));
    assert!(written.contains(r#"- call: {"command":"ping"}"#));
    assert!(
        written.contains(r#""data":"pong","error":null"#),
        "{written}"
    );
    // The joke without a topic is the server's own error text, recorded as it came.
    assert!(written.contains("Please provide some text to create a joke about"));
    assert!(written.contains("server: [mock, real]"));
    let shown = run_twin(&scenario);
    assert!(
        shown.contains("twin@stdio") && shown.contains("twin@real-stdio"),
        "{shown}"
    );
    assert!(shown.contains("2 passed, 0 failed"), "{shown}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_launched_http_cattackle_recorded_from_a_scenarios_steps_passes_both_ways() {
    let dir = tmp("http");
    let steps = dir.join("steps.yaml");
    std::fs::write(
        &steps,
        "steps:\n  - call: { command: echo, text: from a file }\n  - wait: 1s\n  - call: { command: ping }\n",
    )
    .unwrap();
    let scenario = dir.join("twin.yaml");
    let out = cattackle(&[
        "record",
        "fixtures/echo-http.toml",
        "--launch",
        "echo-cattackle --transport http --port {port}",
        "--from-transcript",
        steps.to_str().unwrap(),
        "-o",
        scenario.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&scenario).unwrap();
    assert!(
        written.contains(r#"args: ["--transport","http","--port","{port}"]"#),
        "{written}"
    );
    assert!(written.contains(r#""data":"from a file""#), "{written}");
    let shown = run_twin(&scenario);
    assert!(shown.contains("twin@real-http"), "{shown}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_text_before_any_call_is_refused_and_nothing_is_written() {
    let dir = tmp("usage");
    let scenario = dir.join("twin.yaml");
    let out = cattackle(&[
        "record",
        "cattackles/echo",
        "--text",
        "orphan",
        "--call",
        "echo",
        "-o",
        scenario.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("`--text` before any `--call`"));
    assert!(!scenario.exists());
    let _ = std::fs::remove_dir_all(dir);
}
