//! docs/ci.md's GitHub Actions workflow parses, has the jobs the docs describe, and runs the
//! commands this repository ships.

use serde_yaml::Value;

fn workflow() -> Value {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ci.md")).unwrap();
    let start = docs
        .find("```yaml\nname: cattackle")
        .expect("the workflow block")
        + "```yaml\n".len();
    let end = start + docs[start..].find("\n```").expect("its end");
    serde_yaml::from_str(&docs[start..end]).expect("the workflow is YAML")
}

#[test]
fn the_github_workflow_parses_with_its_jobs() {
    let wf = workflow();
    let jobs = wf["jobs"].as_mapping().expect("jobs");
    let names: Vec<&str> = jobs.keys().filter_map(Value::as_str).collect();
    assert_eq!(names, vec!["check", "scenarios", "snapshots"]);
    let shards = &wf["jobs"]["scenarios"]["strategy"]["matrix"]["shard"];
    assert_eq!(
        shards.as_sequence().map(Vec::len),
        Some(2),
        "a 2-shard matrix"
    );
    let runs = |job: &str| -> String {
        wf["jobs"][job]["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(runs("check").contains("cattackle check cattackles --junit check.xml"));
    let scenarios = runs("scenarios");
    for flag in [
        "--partition hash:${{ matrix.shard }}/2",
        "--junit",
        "--report",
    ] {
        assert!(scenarios.contains(flag), "{flag}: {scenarios}");
    }
    assert!(runs("snapshots").contains("--check-stray-snapshots"));
    let uploads = wf["jobs"]["scenarios"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact"))
        })
        .count();
    assert_eq!(uploads, 1, "JUnit and the HTML report are uploaded");
}
