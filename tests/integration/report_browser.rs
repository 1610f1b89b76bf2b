//! The HTML report of `cattackle test`, rendered in a real headless Chromium (Debian's
//! `chromium`, which `.ci/run` installs): the timeline of a known retry scenario has its attempt
//! bars at the x positions its virtual times give, the page needs nothing from the network, and
//! it holds no secret.

use std::path::Path;
use std::process::Command;

use crate::support::cli::cattackle;

/// The timeline's geometry, as `src/trial/html/report.js` draws it: x = LEFT + t / span * PLOT.
const LEFT: f64 = 200.0;
const PLOT: f64 = 740.0;

fn chromium(args: &[&str], page: &Path) -> std::process::Output {
    Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("chromium is needed for the report test ({e}): apt-get install chromium (scripts/install-debian.sh)"))
}

/// Every `<rect class="attempt …">` of the rendered DOM: (outcome class, x, step, attempt).
fn bars(dom: &str) -> Vec<(String, f64, String, u32)> {
    let attr = |tag: &str, name: &str| {
        let key = format!("{name}=\"");
        tag.split(&key)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned)
    };
    dom.split("<rect ")
        .skip(1)
        .map(|rest| rest.split('>').next().unwrap_or_default())
        .filter(|tag| tag.starts_with("class=\"attempt"))
        .map(|tag| {
            (
                attr(tag, "class").unwrap_or_default(),
                attr(tag, "x")
                    .and_then(|x| x.parse().ok())
                    .unwrap_or(f64::NAN),
                attr(tag, "data-step").unwrap_or_default(),
                attr(tag, "data-attempt")
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn the_timeline_of_a_retry_scenario_draws_each_attempt_at_its_virtual_time() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    // Attempts at 0 s and 1 s (backoff 1 s), the deadline at 2.5 s.
    let out = cattackle(&[
        "test",
        "scenarios/resilience/deadline-clips-the-backoff.yaml",
        "--report",
        page.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    for external in ["<link", "src=\"http", "src='http", "@import", "url(http"] {
        assert!(
            !html.contains(external),
            "the report is self-contained: {external}"
        );
    }
    let rendered = chromium(&["--dump-dom"], &page);
    let dom = String::from_utf8_lossy(&rendered.stdout);
    assert!(
        dom.contains("data-rendered=\"1\""),
        "the page drew itself:\n{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    assert!(
        dom.contains("data-span-us=\"2500000\""),
        "the timeline spans the trial's 2.5 s"
    );
    let bars = bars(&dom);
    assert_eq!(bars.len(), 2, "{bars:?}");
    let x = |t_s: f64| LEFT + t_s / 2.5 * PLOT;
    for ((class, at, step, attempt), (expected_attempt, t)) in bars.iter().zip([(1, 0.0), (2, 1.0)])
    {
        assert_eq!(step, "steps[0]");
        assert_eq!(*attempt, expected_attempt);
        assert!(
            (at - x(t)).abs() < 0.01,
            "attempt {attempt} at x={at}, expected {}",
            x(t)
        );
        assert_eq!(
            class, "attempt error",
            "each attempt ended in a JSON-RPC error"
        );
    }
    let shot = dir.path().join("report.png");
    let taken = chromium(
        &[
            "--hide-scrollbars",
            "--window-size=1000,600",
            &format!("--screenshot={}", shot.display()),
        ],
        &page,
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&taken.stderr)
        )
    });
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot, {} bytes",
        png.len()
    );
}

#[test]
fn a_failing_trial_comes_first_with_its_diff_and_no_secret_reaches_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("leaky.yaml");
    std::fs::write(
        &scenario,
        format!(
            "name: a server that quotes the token it was given\n\
             cattackle:\n  file: {root}/fixtures/echo-stdio.toml\n  overrides: {{ mcp: {{ max_retries: 1, backoff: {{ base: 0.1 }}, transport: {{ env: {{ API_TOKEN: tok-s3cret-9f2 }} }} }} }}\n\
             faults:\n  - match: {{ nth: 1 }}\n    jsonrpc_error: {{ code: -32000, message: \"token tok-s3cret-9f2 expired\" }}\n\
             steps:\n  - call: {{ command: echo, text: hi }}\n    expect: {{ attempts: 1 }}\n",
            root = env!("CARGO_MANIFEST_DIR")
        ),
    )
    .unwrap();
    let page = dir.path().join("report.html");
    let out = cattackle(&[
        "test",
        scenario.to_str().unwrap(),
        "scenarios/retry/timeout-then-success.yaml",
        "--report",
        page.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the leaky trial fails its expectation"
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("tok-s3cret-9f2"),
        "the secret is redacted at the source"
    );
    assert!(
        html.contains("token [secret] expired"),
        "and its place is marked"
    );
    let dom = String::from_utf8_lossy(&chromium(&["--dump-dom"], &page).stdout).into_owned();
    let first = dom.find("<details class=\"trial").unwrap();
    assert!(
        dom[first..].starts_with("<details class=\"trial fail\""),
        "failing trials come first"
    );
    assert!(
        dom.contains("attempts: expected 1, got 2"),
        "with what differs"
    );
}

#[test]
fn the_check_report_shows_failures_first_with_their_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("check.html");
    let out = cattackle(&[
        "check",
        "fixtures/broken/data-number",
        "--timeout",
        "3",
        "--only",
        "contract",
        "--report",
        page.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let dom = String::from_utf8_lossy(&chromium(&["--dump-dom"], &page).stdout).into_owned();
    assert!(dom.contains("data-rendered=\"1\""), "the page drew itself");
    let failures = dom
        .find("failures and warnings (1)")
        .expect("a failures section");
    let suite = dom
        .find("data-number (stdio, cattackle")
        .expect("the suite");
    assert!(failures < suite, "failures come first");
    assert!(dom.contains("`data` is a number, not a string"));
    assert!(
        dom.contains("{\"data\": 22, \"error\": null}"),
        "with the evidence"
    );
}
