//! `cattackle test` for CI: shards, tags, listing, flake hunting, fail-fast, a wall-clock limit
//! per trial, and the JSON, JSON-lines and JUnit outputs.

use std::collections::BTreeSet;
use std::process::Output;

use serde_json::Value;

use crate::support::cli::cattackle;

fn lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn shards_are_disjoint_and_together_hold_every_trial() {
    let all: BTreeSet<String> = lines(&cattackle(&["test", "--list"])).into_iter().collect();
    assert!(all.len() > 100, "{}", all.len());
    for kind in ["count", "hash"] {
        let mut union = BTreeSet::new();
        let mut sizes = Vec::new();
        for m in 1..=3 {
            let shard = lines(&cattackle(&[
                "test",
                "--list",
                "--partition",
                &format!("{kind}:{m}/3"),
            ]));
            sizes.push(shard.len());
            for name in shard {
                assert!(
                    union.insert(name.clone()),
                    "{kind}: {name} is in two shards"
                );
            }
        }
        assert_eq!(union, all, "{kind}: the shards together are every trial");
        if kind == "count" {
            let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(
                max - min <= 1,
                "count shards differ by at most one: {sizes:?}"
            );
        }
    }
    let out = cattackle(&["test", "--partition", "count:4/3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("M must be between 1 and N"));
}

#[test]
fn tags_select_scenarios() {
    let tagged = lines(&cattackle(&["test", "--list", "--tag", "breaker"]));
    assert!(
        tagged.contains(&"resilience/breaker-trips-on-consecutive-failures@stdio".to_owned()),
        "{tagged:?}"
    );
    assert!(
        !tagged.contains(&"resilience/deadline-clips-the-backoff@stdio".to_owned()),
        "{tagged:?}"
    );
    let all = lines(&cattackle(&["test", "--list"]));
    assert!(tagged.len() < all.len() / 4, "{}", tagged.len());
    let none = cattackle(&["test", "--tag", "no-such-tag"]);
    assert_eq!(none.status.code(), Some(2), "no trial matches");
}

/// A scenario that passes or fails by its seed: a fault with probability 0.5, no retries.
fn coin(dir: &std::path::Path) -> String {
    let path = dir.join("coin.yaml");
    std::fs::write(
        &path,
        format!(
            "name: a coin toss\ncattackle:\n  file: {}/fixtures/echo-stdio.toml\n  overrides: {{ mcp: {{ max_retries: 0 }} }}\n\
             faults:\n  - match: {{ probability: 0.5 }}\n    jsonrpc_error: {{ code: -32000, message: heads }}\n\
             steps:\n  - call: {{ command: echo, text: hi }}\n    expect: {{ ok: {{ data: hi }} }}\n",
            env!("CARGO_MANIFEST_DIR")
        ),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn seeds_find_a_flaky_trial_and_say_how_to_reproduce_each_failure() {
    let dir = tempfile::tempdir().unwrap();
    let coin = coin(dir.path());
    let out = cattackle(&["test", &coin, "--seeds", "0..12", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["format"], "cattackle-test/1");
    assert_eq!(
        report["summary"]["passed"].as_u64().unwrap()
            + report["summary"]["failed"].as_u64().unwrap(),
        12
    );
    let flaky = &report["flaky"][0];
    assert_eq!(flaky["name"], "coin@stdio");
    let failed: Vec<u64> = flaky["failed_seeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap())
        .collect();
    assert!(!failed.is_empty() && failed.len() < 12, "{flaky:#}");
    // Each failing seed's line reproduces that failure, and a passing seed passes.
    let repro = flaky["reproduce"][0].as_str().unwrap().to_owned();
    assert!(repro.ends_with(&format!("--seed {}", failed[0])), "{repro}");
    let again = cattackle(&["test", &coin, "--seed", &failed[0].to_string()]);
    assert_eq!(again.status.code(), Some(1));
    let passed = flaky["passed_seeds"][0].as_u64().unwrap().to_string();
    assert_eq!(
        cattackle(&["test", &coin, "--seed", &passed]).status.code(),
        Some(0)
    );
    // The human summary lists it too.
    let out = cattackle(&["test", &coin, "--seeds", "0..12"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("flaky (the outcome differed between runs):"),
        "{text}"
    );
    assert!(text.contains("coin@stdio: failed with seed(s)"), "{text}");
}

#[test]
fn repeat_runs_each_trial_n_times_and_fail_fast_stops_starting_more() {
    let out = cattackle(&[
        "test",
        "--filter",
        "deadline-clips-the-backoff@stdio",
        "--repeat",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let runs: Vec<u64> = report["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["run"].as_u64().unwrap())
        .collect();
    assert_eq!(runs, vec![1, 2, 3]);
    let dir = tempfile::tempdir().unwrap();
    let coin = coin(dir.path());
    let out = cattackle(&[
        "test",
        &coin,
        "--seeds",
        "0..40",
        "--fail-fast",
        "--jobs",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["summary"]["failed"], 1,
        "one failure, then nothing new starts"
    );
    assert!(report["summary"]["not_run"].as_u64().unwrap() > 0);
}

#[test]
fn a_wedged_trial_fails_itself_at_the_trial_timeout_not_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wedged.yaml");
    std::fs::write(
        &path,
        format!(
            "name: a real-clock wait longer than the limit\ncattackle: {{ file: {}/fixtures/echo-stdio.toml }}\nserver: real\n\
             steps:\n  - wait: 30s\n",
            env!("CARGO_MANIFEST_DIR")
        ),
    )
    .unwrap();
    let began = std::time::Instant::now();
    let out = cattackle(&[
        "test",
        path.to_str().unwrap(),
        "--trial-timeout",
        "1",
        "--format",
        "json",
    ]);
    assert!(
        began.elapsed() < std::time::Duration::from_secs(20),
        "stopped at its limit"
    );
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failure = &report["trials"][0]["failures"][0];
    assert_eq!(failure["at"], "trial");
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("did not finish within 1s of wall time (--trial-timeout)"),
        "{failure}"
    );
}

#[test]
fn json_lines_stream_a_start_and_an_end_per_trial_then_a_summary() {
    let out = cattackle(&[
        "test",
        "--filter",
        "resilience/deadline",
        "--format",
        "json-lines",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let events: Vec<Value> = lines(&out)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |kind: &str| events.iter().filter(|e| e["event"] == kind).count();
    assert!(count("started") >= 3);
    assert_eq!(count("started"), count("finished"));
    assert_eq!(events.last().unwrap()["event"], "summary");
    assert_eq!(events.last().unwrap()["passed"], true);
}

#[test]
fn junit_validates_against_the_junit_schema_with_a_suite_per_folder() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("test.xml");
    let out = cattackle(&[
        "test",
        "scenarios/resilience",
        "scenarios/faults",
        "--junit",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = std::fs::read_to_string(&xml).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&text).unwrap();
    let suites: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(suites.len(), 2, "{suites:?}");
    assert!(
        suites[0].ends_with("faults") && suites[1].ends_with("resilience"),
        "{suites:?}"
    );
    assert!(
        report.test_suites[1]
            .test_cases
            .iter()
            .all(|c| c.system_out.is_some()),
        "transcripts in system-out"
    );
    crate::support::junit::validate(&xml);
    // A failing trial carries its message and the reproduce line.
    let coin_dir = tempfile::tempdir().unwrap();
    let coin = coin(coin_dir.path());
    let failing = dir.path().join("failing.xml");
    let _ = cattackle(&[
        "test",
        &coin,
        "--seeds",
        "0..8",
        "--junit",
        failing.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&failing).unwrap();
    assert!(text.contains("<failure message=\"steps[0]:"), "{text}");
    assert!(text.contains("reproduce: cattackle test"), "{text}");
    crate::support::junit::validate(&failing);
}

#[test]
fn the_test_report_schema_in_docs_is_in_sync() {
    let out = cattackle(&["schema", "--test-report"]);
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/test-report.schema.json"
    ))
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        docs.trim(),
        "regenerate with `cattackle schema --test-report > docs/test-report.schema.json`"
    );
}

#[test]
fn colours_follow_the_flag_and_no_color_and_completions_cover_every_subcommand() {
    let plain = cattackle(&["test", "--filter", "deadline-clips-the-backoff@stdio"]);
    assert!(!plain.stdout.contains(&0x1b), "no colours into a pipe");
    let forced = cattackle(&[
        "test",
        "--filter",
        "deadline-clips-the-backoff@stdio",
        "--color",
        "always",
    ]);
    let text = String::from_utf8_lossy(&forced.stdout);
    assert!(text.contains("\u{1b}[32mok"), "{text}");
    let bash = cattackle(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    let script = String::from_utf8_lossy(&bash.stdout);
    for sub in ["test", "check", "call", "list", "schema", "completions"] {
        assert!(
            script.contains(&format!("cattackle__subcmd__{sub}")),
            "{sub}"
        );
    }
    for sub in ["test", "check", "call", "list", "schema", "completions"] {
        let help = cattackle(&[sub, "--help"]);
        assert!(
            String::from_utf8_lossy(&help.stdout).contains("Examples:"),
            "`cattackle {sub} --help` ends with examples"
        );
    }
}
