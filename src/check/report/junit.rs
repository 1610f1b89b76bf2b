//! JUnit XML (quick-junit): one `<testsuite>` per target, one `<testcase>` per check result,
//! classname the area. Failures carry the message, the evidence and the reference; warnings
//! and figures pass with their text in `system-out`; skips and baselined failures are skipped.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::super::model::{RunReport, Status};

/// The report as JUnit XML.
pub fn render(report: &RunReport) -> String {
    let mut junit = Report::new("cattackle check");
    for suite in &report.suites {
        let mut ts = TestSuite::new(format!("check {} ({})", suite.name, suite.transport));
        for r in &suite.results {
            let name = match &r.subject {
                Some(s) => format!("{} [{s}]", r.id),
                None => r.id.clone(),
            };
            let details = {
                let mut d = r.evidence.join("\n");
                if !d.is_empty() {
                    d.push('\n');
                }
                d.push_str(&format!("{} · {}", r.severity.as_str(), r.reference));
                d
            };
            let mut status = match (r.status, &r.baselined) {
                (Status::Fail, Some(reason)) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!("baselined failure ({reason}): {}", r.message));
                    s
                }
                (Status::Fail, None) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(r.message.clone())
                        .set_type(r.severity.as_str())
                        .set_description(details.clone());
                    s
                }
                (Status::Error, _) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(r.message.clone())
                        .set_description(details.clone());
                    s
                }
                (Status::Skip, _) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(r.message.clone());
                    s
                }
                (Status::Pass | Status::Warn | Status::Info, _) => TestCaseStatus::success(),
            };
            let _ = &mut status;
            let mut case = TestCase::new(name, status);
            case.set_classname(format!(
                "{}.{}",
                suite.name,
                r.area.title().replace(' ', "-")
            ));
            case.set_time(Duration::from_millis(r.duration_ms));
            match r.status {
                Status::Warn => {
                    case.set_system_out(format!("WARNING: {}\n{details}", r.message));
                }
                Status::Pass | Status::Info => {
                    case.set_system_out(r.message.clone());
                }
                _ => {}
            }
            ts.add_test_case(case);
        }
        junit.add_test_suite(ts);
    }
    junit.to_string().unwrap_or_default()
}
