//! A distinct secret planted in every place a configuration holds one (an env value the child
//! prints on stderr, a URL's query value and password, a header value) never appears in any
//! output: stdout and stderr of `call`, `list`, `test` and `check` at the highest verbosity with
//! `RUST_LOG=trace`, and the JSON, JUnit and HTML files they write.

use std::path::Path;
use std::process::Command;

use crate::support::cli::text;

const ENV: &str = "planted-env-7f3a";
const QUERY: &str = "planted-query-91c2";
const PASSWORD: &str = "planted-pass-55d1";
const HEADER: &str = "planted-header-3e8b";

fn write_cattackle(dir: &Path, transport: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("cattackle.toml"),
        format!(
            "[cattackle]\nname = \"{name}\"\nversion = \"1\"\ndescription = \"d\"\n\
             [cattackle.commands]\necho = {{ description = \"e\" }}\n\
             [cattackle.mcp]\nmax_retries = 1\nconnect_timeout = 2\nbackoff = {{ base = 0.05 }}\n\
             [cattackle.mcp.transport]\n{transport}\n",
            name = dir.file_name().unwrap().to_string_lossy()
        ),
    )
    .unwrap();
}

/// Runs `cattackle ARGS…` loudly; stdout and stderr together.
fn loud(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cattackle"))
        .arg("-vvv")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "trace")
        .env_remove("CI")
        .output()
        .unwrap();
    format!("{}\n{}", text(&out.stdout), text(&out.stderr))
}

#[test]
fn a_planted_secret_reaches_no_output_stream_and_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cattackles");
    let leaky = root.join("leaky");
    let remote = root.join("remote");
    // The child prints its secret on stderr, then dies: its stderr tail reaches errors.
    write_cattackle(
        &leaky,
        &format!(
            "type = \"stdio\"\ncommand = \"sh\"\n\
             args = [\"-c\", \"echo token=$TOKEN >&2; exit 3\"]\nenv = {{ TOKEN = \"{ENV}\" }}"
        ),
    );
    // Nothing listens on port 1: every attempt fails, quoting the URL.
    write_cattackle(
        &remote,
        &format!(
            "type = \"http\"\nurl = \"http://user:{PASSWORD}@127.0.0.1:1/mcp?token={QUERY}\"\n\
             headers = {{ Authorization = \"Bearer {HEADER}\" }}"
        ),
    );
    let scenario = dir.path().join("leaks.yaml");
    std::fs::write(
        &scenario,
        format!(
            "name: every secret planted\nserver: real\ncattackle:\n  file: {}\n\
             steps:\n  - call: {{ command: echo, text: hi }}\n    expect: {{ ok: {{ data: hi }} }}\n",
            leaky.join("cattackle.toml").display()
        ),
    )
    .unwrap();
    let out = |name: &str| dir.path().join(name).display().to_string();
    let (leaky, remote) = (leaky.display().to_string(), remote.display().to_string());
    let scenario = scenario.display().to_string();
    let mut seen = vec![
        loud(&["call", &leaky, "echo", "--text", "x", "--json"]),
        loud(&["call", &remote, "echo", "--text", "x", "--metrics"]),
        loud(&["list", &root.display().to_string()]),
        loud(&["list", &remote, "--tools"]),
        loud(&[
            "test",
            &scenario,
            "--format",
            "json",
            "--junit",
            &out("test.xml"),
            "--report",
            &out("test.html"),
        ]),
        loud(&[
            "check",
            &leaky,
            "--format",
            "json",
            "--junit",
            &out("check.xml"),
            "--report",
            &out("check.html"),
        ]),
        loud(&["check", &remote, "--format", "json-lines"]),
    ];
    for file in ["test.xml", "test.html", "check.xml", "check.html"] {
        seen.push(std::fs::read_to_string(out(file)).unwrap_or_else(|e| panic!("{file}: {e}")));
    }
    let everything = seen.join("\n");
    // The runs did fail where the secrets would show (the test is not vacuous).
    assert!(everything.contains("token=[redacted]"), "{everything}");
    assert!(everything.contains("127.0.0.1:1"), "{everything}");
    for secret in [ENV, QUERY, PASSWORD, HEADER] {
        let at = everything.find(secret);
        assert!(
            at.is_none(),
            "{secret} leaked: …{}…",
            &everything[at.unwrap().saturating_sub(300)..(at.unwrap() + 100).min(everything.len())]
        );
    }
}
