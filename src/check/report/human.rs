//! Results for a terminal: per suite, grouped by area, a mark per check (✓ ✗ ! – i E), the
//! evidence and reference under each failure and warning, and a one-line summary.

use std::fmt::Write;

use super::super::catalog::Pack;
use super::super::model::{RunReport, Status, SuiteReport};

/// The whole report.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    for suite in &report.suites {
        render_suite(&mut out, suite);
    }
    for stale in &report.stale_baseline {
        let _ = writeln!(
            out,
            "stale baseline entry: `{}`{} no longer fails ({}): remove it",
            stale.id,
            stale
                .suite
                .as_ref()
                .map(|s| format!(" for {s}"))
                .unwrap_or_default(),
            stale.reason
        );
    }
    let s = &report.summary;
    let mut parts = vec![
        format!("{} passed", s.passed),
        format!("{} failed", s.failed),
    ];
    if s.baselined > 0 {
        parts.push(format!("{} baselined", s.baselined));
    }
    parts.push(format!(
        "{} warning{}",
        s.warnings,
        if s.warnings == 1 { "" } else { "s" }
    ));
    parts.push(format!("{} skipped", s.skipped));
    if s.info > 0 {
        parts.push(format!("{} info", s.info));
    }
    if s.errors > 0 {
        parts.push(format!("{} harness error(s)", s.errors));
    }
    if s.stale > 0 {
        parts.push(format!(
            "{} stale baseline entr{}",
            s.stale,
            if s.stale == 1 { "y" } else { "ies" }
        ));
    }
    let verdict = if report.passed { "ok" } else { "FAILED" };
    let _ = writeln!(out, "check result: {verdict}. {}", parts.join(", "));
    out
}

fn render_suite(out: &mut String, suite: &SuiteReport) {
    let kind = if suite.cattackle {
        "cattackle"
    } else {
        "MCP server"
    };
    let version = suite
        .protocol_version
        .as_deref()
        .map(|v| format!(", protocol {v}"))
        .unwrap_or_default();
    let _ = writeln!(out, "{} ({}, {kind}{version})", suite.name, suite.transport);
    if !suite.reachable {
        let _ = writeln!(out, "  could not be started or reached: no check could run");
    }
    let mut areas: Vec<_> = suite.results.iter().map(|r| r.area).collect();
    areas.sort();
    areas.dedup();
    for area in areas {
        let results: Vec<_> = suite.results.iter().filter(|r| r.area == area).collect();
        if results.is_empty() {
            continue;
        }
        // An area that does not apply at all (another transport) is one line.
        if let Some(first) = results.first()
            && results
                .iter()
                .all(|r| r.status == Status::Skip && r.message == first.message)
        {
            let _ = writeln!(
                out,
                "  {} – {} ({} checks)",
                area.title(),
                first.message,
                results.len()
            );
            continue;
        }
        let _ = writeln!(out, "  {}", area.title());
        for r in results {
            let subject = r
                .subject
                .as_ref()
                .map(|s| format!(" [{s}]"))
                .unwrap_or_default();
            let mark = if r.baselined.is_some() {
                "✗ (baselined)"
            } else {
                r.status.mark()
            };
            let _ = writeln!(out, "    {mark} {}{subject}  {}", r.id, r.message);
            if matches!(r.status, Status::Fail | Status::Warn | Status::Error) {
                for e in &r.evidence {
                    let _ = writeln!(out, "        | {}", e.replace('\n', "\n        | "));
                }
                let _ = writeln!(out, "        {} · {}", r.severity.as_str(), r.reference);
                if let Some(reason) = &r.baselined {
                    let _ = writeln!(out, "        baselined: {reason}");
                }
            }
        }
    }
}

/// `--list`: every check with its id, severity, what it checks and its reference; data checks
/// (pack files) are marked `data`.
pub fn list(pack: &Pack) -> String {
    let mut out = String::new();
    for c in &pack.checks {
        let kind = if c.is_data() { "data" } else { "" };
        let _ = writeln!(
            out,
            "{:<32} {:<6} {:<4} {}",
            c.id,
            c.severity.as_str(),
            kind,
            c.summary
        );
        let _ = writeln!(
            out,
            "{:<32} {:<6} {:<4} {}",
            "",
            "",
            "",
            c.reference_for("<era>")
        );
    }
    out
}
