//! `cattackle check`: the pack passes on the reference cattackle over every transport, each
//! deliberately broken cattackle fails exactly the checks it is built to fail, and the outputs
//! (JSON, JUnit, baseline) hold what CI reads, without secrets.

use std::collections::BTreeSet;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use crate::support::cli::cattackle;
use crate::support::processes::echo_binary;

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The ids with `status` in the report's first suite.
fn ids_with(report: &Value, status: &str) -> BTreeSet<String> {
    report["suites"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["status"] == status)
        .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn the_pack_passes_on_echo_cattackle_over_stdio() {
    let out = cattackle(&["check", "cattackles/echo", "--format", "json"]);
    let report = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(report["format"], "cattackle-check/1");
    assert_eq!(report["passed"], true);
    assert_eq!(ids_with(&report, "fail"), set(&[]));
    assert_eq!(ids_with(&report, "warn"), set(&[]));
    // The contract checks ran, per declared command.
    let contract: Vec<&Value> = report["suites"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"] == "contract.response-shape")
        .collect();
    assert_eq!(contract.len(), 3, "one per command of cattackles/echo");
    assert!(contract.iter().all(|r| r["status"] == "pass"));
    // Transport checks of other transports are skipped with the reason, never failed.
    let http = report["suites"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "http.unknown-session")
        .unwrap()
        .clone();
    assert_eq!(http["status"], "skip");
    assert_eq!(http["message"], "not an HTTP server");
}

/// Starts `echo-cattackle` on a free port and waits until it listens.
fn serve_echo(transport: &str) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(echo_binary())
        .args(["--transport", transport, "--port", &port.to_string()])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start echo-cattackle");
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (child, port);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("echo-cattackle --transport {transport} did not listen on {port}");
}

fn check_network(transport: &str, scheme: &str) -> Value {
    let (mut child, port) = serve_echo(transport);
    let url = format!("{scheme}://127.0.0.1:{port}/mcp");
    let out = cattackle(&["check", "--url", &url, "--format", "json"]);
    let _ = child.kill();
    let _ = child.wait();
    let report = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    report
}

#[test]
fn the_mcp_checks_pass_on_echo_cattackle_over_websocket() {
    let report = check_network("websocket", "ws");
    assert_eq!(ids_with(&report, "fail"), set(&[]));
    assert!(ids_with(&report, "pass").contains("websocket.text-frames"));
    assert!(ids_with(&report, "pass").contains("websocket.subprotocol"));
    assert!(
        ids_with(&report, "skip").contains("contract.response-shape"),
        "a URL is not a cattackle: the contract is not applicable"
    );
}

#[test]
fn the_mcp_checks_pass_on_echo_cattackle_over_http() {
    let report = check_network("http", "http");
    assert_eq!(ids_with(&report, "fail"), set(&[]));
    let passed = ids_with(&report, "pass");
    for id in [
        "http.unknown-session",
        "http.delete-session",
        "http.get-stream",
        "http.content-type",
        "http.foreign-origin",
        "http.accept",
    ] {
        assert!(passed.contains(id), "{id}: {report:#}");
    }
}

/// Runs the pack on `fixtures/broken/<mode>`; returns the failing and the warning ids.
fn broken(mode: &str) -> (BTreeSet<String>, BTreeSet<String>, Value) {
    let path = format!("fixtures/broken/{mode}");
    let out = cattackle(&["check", &path, "--format", "json", "--timeout", "3"]);
    let report = json_of(&out);
    let failed = ids_with(&report, "fail");
    let expected = if failed.is_empty() { 0 } else { 1 };
    assert_eq!(out.status.code(), Some(expected), "{report:#}");
    assert_eq!(
        ids_with(&report, "error"),
        set(&[]),
        "no harness error: {report:#}"
    );
    (failed, ids_with(&report, "warn"), report)
}

fn fails_exactly(mode: &str, ids: &[&str]) {
    let (failed, warned, report) = broken(mode);
    assert_eq!(failed, set(ids), "{mode}: {report:#}");
    if mode != "banner" {
        assert_eq!(warned, set(&[]), "{mode}: {report:#}");
    }
}

#[test]
fn broken_control_breaks_nothing() {
    fails_exactly("control", &[]);
}

#[test]
fn broken_banner_fails_stdout_hygiene() {
    fails_exactly("banner", &["stdio.stdout-clean"]);
    let (_, warned, _) = broken("banner");
    assert_eq!(warned, set(&["stdio.no-banner"]));
}

#[test]
fn broken_ignores_eof_fails_exit_on_eof() {
    fails_exactly("ignores-eof", &["stdio.exits-on-eof"]);
}

#[test]
fn broken_data_number_fails_data_is_string() {
    let (_, _, report) = broken("data-number");
    fails_exactly("data-number", &["contract.data-is-string"]);
    let failure = report["suites"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "fail")
        .unwrap()
        .clone();
    assert_eq!(failure["message"], "`data` is a number, not a string");
    assert_eq!(failure["subject"], "echo");
    assert!(
        failure["evidence"][0]
            .as_str()
            .unwrap()
            .contains("\"data\": 22"),
        "the evidence quotes what the server sent: {failure:#}"
    );
}

#[test]
fn broken_no_input_schema_fails_the_schema_checks() {
    // A tool without inputSchema is also not a valid `tools/list` result on the wire.
    fails_exactly("no-input-schema", &["tools.input-schema", "wire.schema"]);
}

#[test]
fn broken_crash_on_extra_key_fails_extra_keys() {
    fails_exactly("crash-extra-key", &["contract.extra-keys"]);
}

#[test]
fn broken_dies_on_unknown_tool_fails_unknown_tool() {
    fails_exactly("dies-unknown-tool", &["tools.unknown-tool"]);
}

#[test]
fn broken_ignores_cancellation_fails_cancel() {
    fails_exactly("ignores-cancel", &["robust.cancel"]);
}

#[test]
fn broken_grandchild_fails_no_orphans_and_leaves_nothing_running() {
    let (failed, _, report) = broken("grandchild");
    assert_eq!(failed, set(&["stdio.no-orphans"]), "{report:#}");
    let failure = report["suites"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "fail")
        .unwrap()
        .clone();
    let evidence = failure["evidence"][0].as_str().unwrap().to_owned();
    let pids: Vec<u32> = evidence
        .trim_start_matches("pids [")
        .trim_end_matches(']')
        .split(", ")
        .filter_map(|p| p.parse().ok())
        .collect();
    assert!(!pids.is_empty(), "{evidence}");
    std::thread::sleep(Duration::from_millis(200));
    for pid in pids {
        assert!(
            !crate::support::processes::is_running(pid),
            "the check killed what the server left behind (pid {pid})"
        );
    }
}

#[test]
fn broken_bad_version_fails_version_negotiation() {
    fails_exactly("bad-version", &["lifecycle.version-negotiation"]);
}

#[test]
fn broken_plain_is_error_fails_response_shape() {
    fails_exactly("plain-is-error", &["contract.response-shape"]);
}

#[test]
fn baseline_accepts_listed_failures_and_fails_stale_entries() {
    let dir = tempfile::tempdir().unwrap();
    let written = dir.path().join("baseline.yaml");
    let out = cattackle(&[
        "check",
        "fixtures/broken/data-number",
        "--timeout",
        "2",
        "--only",
        "contract",
        "--write-baseline",
        written.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&written).unwrap();
    assert!(
        text.contains("contract.data-is-string:\n  data-number:"),
        "{text}"
    );
    let out = cattackle(&[
        "check",
        "fixtures/broken/data-number",
        "--only",
        "contract",
        "--baseline",
        written.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("✗ (baselined) contract.data-is-string"),
        "{stdout}"
    );
    // An entry for a check that passes is stale.
    let stale = dir.path().join("stale.yaml");
    std::fs::write(&stale, "contract.response-shape: \"was broken once\"\n").unwrap();
    let out = cattackle(&[
        "check",
        "cattackles/echo",
        "--only",
        "contract",
        "--baseline",
        stale.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("stale baseline entry: `contract.response-shape` no longer fails (was broken once): remove it"),
        "{stdout}"
    );
    // A typo in a baseline is a usage error naming the nearest id.
    let typo = dir.path().join("typo.yaml");
    std::fs::write(&typo, "contract.data-is-strng: x\n").unwrap();
    let out = cattackle(&[
        "check",
        "cattackles/echo",
        "--baseline",
        typo.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("did you mean `contract.data-is-string`?")
    );
}

#[test]
fn junit_holds_one_case_per_result_with_failures_and_skips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("check.xml");
    let out = cattackle(&[
        "check",
        "fixtures/broken/plain-is-error",
        "--timeout",
        "2",
        "--junit",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(&path).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit XML that parses");
    let suite = &report.test_suites[0];
    assert_eq!(suite.failures, 1, "{xml}");
    assert!(suite.tests > 30, "{xml}");
    let failed: Vec<_> = suite
        .test_cases
        .iter()
        .filter(|c| matches!(c.status, quick_junit::TestCaseStatus::NonSuccess { .. }))
        .map(|c| c.name.as_str().to_owned())
        .collect();
    assert_eq!(failed, vec!["contract.response-shape [echo]".to_owned()]);
    crate::support::junit::validate(&path);
}

#[test]
fn an_unreachable_target_exits_3_and_secrets_never_show() {
    let out = cattackle(&[
        "check",
        "--url",
        "http://user:pw-s3cret@127.0.0.1:9/mcp?token=q-s3cret",
        "--header",
        "Authorization=Bearer h-s3cret",
        "--timeout",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("s3cret"), "{all}");
    let report = json_of(&out);
    assert_eq!(report["suites"][0]["reachable"], false);
    assert_eq!(report["suites"][0]["name"], "http://127.0.0.1:9/mcp");
    assert_eq!(ids_with(&report, "fail"), set(&["lifecycle.initialize"]));
}

#[test]
fn selection_and_usage_errors() {
    let out = cattackle(&[
        "check",
        "cattackles/echo",
        "--only",
        "stdio",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let report = json_of(&out);
    let ran: BTreeSet<String> = report["suites"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ran,
        set(&[
            "stdio.exits-on-eof",
            "stdio.no-banner",
            "stdio.no-orphans",
            "stdio.stdout-clean"
        ])
    );
    let out = cattackle(&["check", "cattackles/echo", "--only", "lifecycle.pnig"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `lifecycle.ping`?"));
    let out = cattackle(&["check"]);
    assert_eq!(out.status.code(), Some(2), "no target");
    let out = cattackle(&["check", "--list"]);
    assert_eq!(out.status.code(), Some(0));
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.contains("contract.data-is-string") && list.contains("MUST"),
        "{list}"
    );
}

#[test]
fn the_report_schema_in_docs_is_in_sync() {
    let out = cattackle(&["schema", "--check-report"]);
    assert_eq!(out.status.code(), Some(0));
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/check-report.schema.json"
    ))
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        docs.trim(),
        "regenerate with `cattackle schema --check-report > docs/check-report.schema.json`"
    );
}

#[test]
fn a_teams_own_pack_runs_beside_the_builtin_checks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("team.yaml"),
        r#"
- id: contract.echo-says-hi
  area: contract
  severity: must
  reference: "our cattackle guide §2"
  summary: each command answers the greeting with a string data
  needs: cattackle
  each_command: true
  steps:
    - request:
        method: tools/call
        params: { name: "{{command}}", arguments: { text: hi, accumulated_params: [], extra: { username: team } } }
      expect: { result: { isError: false, content: [{ type: text, text: $string }] } }
      fail: "`{{command}}` did not answer the greeting"
- id: tools.lists-a-fourth-tool
  area: tools
  severity: should
  reference: "our roadmap"
  summary: a tool we plan to add
  steps:
    - request: { method: tools/list }
      expect: { result: { tools: [$any, $any, $any, $any] } }
      fail: the server does not list four tools yet
"#,
    )
    .unwrap();
    let pack = dir.path().to_str().unwrap();
    let out = cattackle(&[
        "check",
        "cattackles/echo",
        "--pack",
        pack,
        "--only",
        "contract.echo-says-hi",
        "--only",
        "tools.lists-a-fourth-tool",
        "--format",
        "json",
    ]);
    let report = json_of(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a SHOULD check only warns: {report:#}"
    );
    let results = report["suites"][0]["results"].as_array().unwrap();
    let says_hi: Vec<&Value> = results
        .iter()
        .filter(|r| r["id"] == "contract.echo-says-hi")
        .collect();
    assert_eq!(says_hi.len(), 3, "once per declared command");
    assert!(says_hi.iter().all(|r| r["status"] == "pass"), "{report:#}");
    assert_eq!(
        ids_with(&report, "warn"),
        set(&["tools.lists-a-fourth-tool"])
    );
    let out = cattackle(&["check", "--list", "--pack", pack]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("contract.echo-says-hi"));
    // A typo in a pack file names the file, the line and column, and the valid keys.
    std::fs::write(
        dir.path().join("bad.yaml"),
        "- id: a.b\n  area: tools\n  severity: must\n  reference: r\n  summary: s\n  step: []\n",
    )
    .unwrap();
    let out = cattackle(&["check", "cattackles/echo", "--pack", pack]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.yaml:6:3: ") && stderr.contains("unknown field `step`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `steps`?"), "{stderr}");
}

#[test]
fn docs_list_every_check() {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/check.md")).unwrap();
    let missing: Vec<String> = cattackle_harness::check::catalog()
        .into_iter()
        .map(|c| c.id)
        .filter(|id| !docs.contains(&format!("| `{id}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/check.md lacks a row for {missing:?}"
    );
}

#[test]
fn json_lines_stream_a_suite_per_target_then_the_summary() {
    let out = cattackle(&[
        "check",
        "fixtures/broken",
        "--only",
        "contract.data-is-string",
        "--format",
        "json-lines",
        "--timeout",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(1), "data-number fails");
    let events: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let suites = events.iter().filter(|e| e["event"] == "suite").count();
    assert_eq!(suites, 11, "one per broken fixture");
    assert_eq!(events.last().unwrap()["event"], "summary");
    assert_eq!(events.last().unwrap()["passed"], false);
}
