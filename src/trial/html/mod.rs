//! The HTML report of a `cattackle test` run (`--report PATH`): one self-contained file (inline
//! CSS and JS, no network), opened from disk. A summary on top, failing trials first with their
//! diffs, and for each trial its steps, an SVG timeline of every call on the scenario clock
//! (attempts ending in their outcome, backoff between them, sessions, faults as they fired, the
//! breaker), the messages of an attempt on hover, and the transcript. Everything in it comes
//! from the journal, redacted as snapshots are: the report holds no secret.

use serde_json::{Value, json};

use super::TrialResult;
use super::record::{TestReport, TrialRecord};

/// The report's style sheet (the check report uses it too).
pub const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");

/// The page.
pub fn render(report: &TestReport, runs: &[(u32, TrialResult)]) -> String {
    let trials: Vec<Value> = runs
        .iter()
        .map(|(run, result)| {
            let mut trial = serde_json::to_value(TrialRecord::of(result, *run)).unwrap_or_default();
            trial["transcript"] = json!(result.report.transcript);
            trial["timeline"] = serde_json::to_value(&result.report.timeline).unwrap_or_default();
            trial
        })
        .collect();
    let data = json!({
        "passed": report.passed,
        "summary": report.summary,
        "partition": report.partition,
        "trials": trials,
    });
    // `</` cannot close the script element from inside JSON text: `<\/` is the same JSON.
    let data = data.to_string().replace("</", "<\\/");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>cattackle test report</title>\n\
         <style>\n{CSS}</style>\n</head>\n<body>\n<h1>cattackle test</h1>\n\
         <noscript>This report draws itself with JavaScript, which is off.</noscript>\n\
         <div id=\"report\"></div>\n<script type=\"application/json\" id=\"data\">{data}</script>\n\
         <script>\n{JS}</script>\n</body>\n</html>\n"
    )
}
