//! Input that a parser chokes on gets a positioned error: bytes that are not UTF-8, and YAML
//! nested past the depth limit (which the YAML parser takes quadratic time to refuse).

use std::path::Path;

use cattackle_harness::config::load_path;
use cattackle_harness::scenario::load_file;

#[test]
fn a_scenario_that_is_not_utf8_names_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, b"name: ok\ndescription: caf\xe9\nsteps: []\n").unwrap();
    let rendered = load_file(&path, Path::new("")).unwrap_err().render();
    assert!(rendered.contains("this byte is not UTF-8"), "{rendered}");
    assert!(rendered.contains("s.yaml:2:17"), "{rendered}");
}

#[test]
fn a_cattackle_toml_that_is_not_utf8_names_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cattackle.toml"),
        b"[cattackle]\nname = \"caf\xe9\"\n",
    )
    .unwrap();
    let rendered = load_path(dir.path()).unwrap_err().render();
    assert!(rendered.contains("this byte is not UTF-8"), "{rendered}");
    assert!(rendered.contains("cattackle.toml:2:12"), "{rendered}");
}

#[test]
fn deeply_nested_yaml_is_refused_at_the_bracket_past_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.yaml");
    let n = 50_000;
    std::fs::write(
        &path,
        format!(
            "name: deep\nsteps: []\nserver_expect:\n  - tool: echo\n    arguments: {{ a: {}{} }}\n",
            "[".repeat(n),
            "]".repeat(n)
        ),
    )
    .unwrap();
    let rendered = load_file(&path, Path::new("")).unwrap_err().render();
    assert!(
        rendered.contains("nested deeper than 128 levels"),
        "{rendered}"
    );
    // `{` at column 16 is level 1; the `[`s start at column 21: the 128th is level 129.
    assert!(rendered.contains("deep.yaml:5:148"), "{rendered}");
}
