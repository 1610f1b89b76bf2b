//! The scenario harness itself: what a failing expectation reports, the virtual clock, the
//! schema, and `cattackle test`'s output and exit codes.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use cattackle_harness::harness::{RunOptions, run};
use cattackle_harness::scenario::model::Clock;
use cattackle_harness::scenario::{ScenarioFile, TrialTarget, json_schema, load_str};

/// A scenario as if it were `scenarios/<id>.yaml` of this repository.
fn scenario(id: &str, yaml: &str) -> ScenarioFile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{id}.yaml"));
    load_str(&path, id, yaml).unwrap_or_else(|e| panic!("{}", e.render()))
}

fn failures(file: &ScenarioFile) -> Vec<String> {
    let target = file.targets()[0];
    run(file, target, &RunOptions::default())
        .failures
        .into_iter()
        .map(|f| format!("{}: {}", f.at, f.message))
        .collect()
}

const HEAD: &str = "
name: t
cattackle:
  file: ../fixtures/echo-stdio.toml
  overrides: { mcp: { timeout: 0.5, max_retries: 2 } }
";

#[test]
fn wrong_expectations_say_what_differs() {
    let file = scenario(
        "wrong",
        &format!(
            "{HEAD}
faults:
  - {{ match: {{ nth: 1 }}, delay: 2s }}
steps:
  - call: {{ command: echo, text: hello }}
    expect:
      ok: {{ data: bye }}
      attempts: 3
      schedule: [0s, 1s]
      sessions: 1
"
        ),
    );
    assert_eq!(
        failures(&file),
        [
            r#"steps[0]: data: expected "bye", got "hello""#,
            "steps[0]: attempts: expected 3, got 2",
            "steps[0]: schedule: expected [0s, 1s], got [0s, 1.5s]",
            "steps[0]: sessions opened: expected 1, got 2",
        ]
    );
}

#[test]
fn an_expected_error_that_succeeds_is_reported_with_the_outcome() {
    let file = scenario(
        "ok-not-error",
        &format!(
            "{HEAD}
steps:
  - call: {{ command: echo, text: hi }}
    expect: {{ error: {{ kind: timed_out }} }}
"
        ),
    );
    assert_eq!(
        failures(&file),
        [
            r#"steps[0]: expected error timed_out, got ok {"data":"hi","error":null,"is_error":false}"#
        ]
    );
}

#[test]
fn a_missed_server_expectation_names_the_closest_request() {
    let file = scenario(
        "server-expect",
        &format!(
            "{HEAD}
steps:
  - call: {{ command: echo, text: hello, username: ann }}
server_expect:
  - {{ tool: echo, arguments: {{ text: hullo }}, times: 1 }}
  - {{ method: tools/list, max: 0 }}
"
        ),
    );
    assert_eq!(
        failures(&file),
        [
            "server_expect[0]: expected exactly 1 × tools/call echo with arguments containing \
             {\"text\":\"hullo\"}, received 0; closest unmatched request: c1 tools/call echo \
             {\"extra\":{\"username\":\"ann\"},\"text\":\"hello\"}"
        ]
    );
}

#[test]
fn mock_scenarios_run_on_a_virtual_clock_exactly() {
    let file = scenario(
        "virtual",
        &format!(
            "{HEAD}
faults:
  - hang: true
steps:
  - call: {{ command: echo, text: hi }}
    expect: {{ error: {{ kind: exhausted, last: timed_out }}, elapsed: 4.5s }}
"
        ),
    );
    let report = run(
        &file,
        TrialTarget::Mock(cattackle_harness::scenario::model::MockTransport::Stdio),
        &RunOptions::default(),
    );
    assert!(report.passed(), "{:?}", report.failures);
    assert_eq!(report.clock, Clock::Virtual);
    assert_eq!(report.clock_time, Duration::from_millis(4500));
    assert!(
        report.transcript.contains("t: 4.5s"),
        "{}",
        report.transcript
    );
}

#[test]
fn the_same_seed_gives_the_same_transcript_and_another_seed_may_not() {
    let yaml = format!(
        "{HEAD}
faults:
  - {{ match: {{ probability: 0.5 }}, jsonrpc_error: {{ code: -1, message: flaky }} }}
steps:
  - call: {{ command: echo, text: a }}
  - call: {{ command: echo, text: b }}
  - call: {{ command: echo, text: c }}
  - call: {{ command: echo, text: d }}
"
    );
    let file = scenario("seeded", &yaml);
    let target = file.targets()[0];
    let with = |seed| {
        run(
            &file,
            target,
            &RunOptions {
                seed: Some(seed),
                ..RunOptions::default()
            },
        )
        .transcript
    };
    assert_eq!(with(1), with(1));
    assert!((2..20).any(|seed| with(seed) != with(1)));
}

#[test]
fn the_published_schema_is_generated_from_the_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenario.schema.json");
    let stored = std::fs::read_to_string(&path).expect("docs/scenario.schema.json");
    assert!(
        stored == json_schema(),
        "docs/scenario.schema.json is out of date: run `cargo run -- schema > docs/scenario.schema.json`"
    );
}

fn cattackle_test(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cattackle"))
        .arg("test")
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("CI")
        .output()
        .expect("run cattackle")
}

fn write_scenario(dir: &Path, name: &str, expect: &str) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/echo-stdio.toml");
    let yaml = format!(
        "name: {name}\ncattackle: {{ file: {} }}\nsteps:\n  - call: {{ command: echo, text: hi }}\n    expect: {expect}\n",
        fixture.display()
    );
    std::fs::write(dir.join(format!("{name}.yaml")), yaml).unwrap();
}

#[test]
fn cattackle_test_summarizes_and_exits_by_the_documented_codes() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    write_scenario(&scenarios, "passes", "{ ok: { data: hi } }");
    let out = cattackle_test(dir.path(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("passes@stdio"), "{stdout}");
    assert!(
        stdout.contains("test result: ok. 1 passed, 0 failed"),
        "{stdout}"
    );

    write_scenario(&scenarios, "fails", "{ ok: { data: bye } }");
    let out = cattackle_test(dir.path(), &["--seed", "9"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("1 passed, 1 failed"), "{stdout}");
    assert!(
        stdout.contains(r#"steps[0]: data: expected "bye", got "hi""#),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "reproduce: cattackle test scenarios/fails.yaml --filter 'fails@stdio' --seed 9"
        ),
        "{stdout}"
    );

    let out = cattackle_test(dir.path(), &["--filter", "passes"]);
    assert_eq!(out.status.code(), Some(0));

    std::fs::write(scenarios.join("broken.yaml"), "name: x\nstpes: []\n").unwrap();
    let out = cattackle_test(dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("scenarios/broken.yaml:2:1"), "{stderr}");
    assert!(stderr.contains("did you mean `steps`?"), "{stderr}");
}

#[test]
fn cattackle_test_shows_a_config_typo_at_the_scenario_key_and_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/echo-stdio.toml");
    let yaml = format!(
        "name: typo\ncattackle:\n  file: {}\n  overrides: {{ mcp: {{ timout: 1 }} }}\nsteps:\n  - call: {{ command: echo, text: hi }}\n",
        fixture.display()
    );
    std::fs::write(dir.path().join("typo.yaml"), yaml).unwrap();
    let out = cattackle_test(dir.path(), &["typo.yaml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "warning: unknown key `timout` in `[cattackle.mcp]`, did you mean `timeout`?"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("typo.yaml:4:23"),
        "at the key in the scenario: {stderr}"
    );
}

#[test]
fn cattackle_test_fails_on_a_changed_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    write_scenario(dir.path(), "snap", "{ ok: { data: hi } }");
    let out = cattackle_test(dir.path(), &[".", "--write-snapshots"]);
    assert_eq!(out.status.code(), Some(0));
    let snap = dir.path().join("snapshots/snap@stdio.snap");
    let stored = std::fs::read_to_string(&snap).unwrap();
    assert!(
        stored.starts_with("---\nsource: cattackle test\n---\n"),
        "{stored}"
    );
    std::fs::write(&snap, stored.replace("\"hi\"", "\"ho\"")).unwrap();
    let out = cattackle_test(dir.path(), &["."]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("the transcript differs from"), "{stdout}");
}

#[test]
fn cattackle_test_finds_snapshots_no_trial_uses_when_asked_or_in_ci() {
    let dir = tempfile::tempdir().unwrap();
    write_scenario(dir.path(), "kept", "{ ok: { data: hi } }");
    let out = cattackle_test(dir.path(), &[".", "--write-snapshots"]);
    assert_eq!(out.status.code(), Some(0));
    let stray = dir.path().join("snapshots/renamed@stdio.snap");
    std::fs::copy(dir.path().join("snapshots/kept@stdio.snap"), &stray).unwrap();
    for (args, env_ci, code) in [
        (vec![".", "--check-stray-snapshots"], None, 1),
        (vec![".", "--check-stray-snapshots=false"], Some("true"), 0),
        (vec!["."], Some("true"), 1),
        (vec!["."], None, 0),
        (
            vec![".", "--check-stray-snapshots", "--filter", "kept"],
            None,
            0,
        ),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cattackle"));
        command.arg("test").args(&args).current_dir(dir.path());
        command.env_remove("RUST_LOG").env_remove("CI");
        if let Some(ci) = env_ci {
            command.env("CI", ci);
        }
        let out = command.output().expect("run cattackle");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?} CI={env_ci:?}: {stdout}"
        );
        assert_eq!(
            stdout.contains("renamed@stdio.snap"),
            code == 1,
            "{args:?}: {stdout}"
        );
    }
}

#[test]
fn secrets_of_the_configuration_never_reach_reports() {
    let file = scenario(
        "secret",
        "
name: a cattackle that prints its token on stderr and dies
server: real
cattackle:
  inline:
    name: leaky
    version: '1'
    description: prints its secret
    commands: { echo: { description: echo } }
    mcp:
      max_retries: 0
      transport:
        type: stdio
        command: sh
        args: ['-c', 'echo token=$API_TOKEN >&2; exit 3']
        env: { API_TOKEN: s3cr3t-value }
steps:
  - call: { command: echo, text: hi }
    expect: { ok: { data: hi } }
",
    );
    let report = run(&file, file.targets()[0], &RunOptions::default());
    let failures: Vec<String> = report.failures.iter().map(|f| f.message.clone()).collect();
    let everything = format!("{failures:?}\n{}", report.transcript);
    assert!(!everything.contains("s3cr3t-value"), "{everything}");
    // The manager redacts the stderr tail at the source, before the harness sees it.
    assert!(everything.contains("token=[redacted]"), "{everything}");
}
