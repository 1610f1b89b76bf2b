//! JUnit XML of a `cattackle test` run (quick-junit): one `<testsuite>` per scenario folder, one
//! `<testcase>` per trial run, classname the folder. A failure carries its first message, and
//! every failure (a snapshot's diff included) as its text; `system-out` holds the transcript.

use std::collections::BTreeMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::record::{TrialRecord, TrialStatus};

/// The run as JUnit XML; `transcripts` gives each record's transcript text (same order).
pub fn render(records: &[TrialRecord], transcripts: &[&str]) -> String {
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    let repeated = records.iter().any(|r| r.run > 1);
    for (record, transcript) in records.iter().zip(transcripts) {
        let status = match record.status {
            TrialStatus::Pass => TestCaseStatus::success(),
            TrialStatus::Skip => {
                let mut status = TestCaseStatus::skipped();
                if let Some(why) = &record.skipped {
                    status.set_message(why.as_str());
                }
                status
            }
            TrialStatus::Fail => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let first = record.failures.first().map_or_else(String::new, |f| {
                    format!("{}: {}", f.at, first_line(&f.message))
                });
                let all: Vec<String> = record
                    .failures
                    .iter()
                    .map(|f| format!("{}: {}", f.at, f.message))
                    .collect();
                status.set_message(first).set_description(format!(
                    "{}\n\nreproduce: {}",
                    all.join("\n"),
                    record.reproduce
                ));
                status
            }
        };
        let name = if repeated {
            format!("{} (run {}, seed {})", record.name, record.run, record.seed)
        } else {
            record.name.clone()
        };
        let mut case = TestCase::new(name, status);
        case.set_classname(record.folder.clone());
        case.set_time(Duration::from_millis(record.wall_time_ms));
        if !transcript.is_empty() {
            case.set_system_out(*transcript);
        }
        suites
            .entry(record.folder.as_str())
            .or_insert_with(|| TestSuite::new(record.folder.clone()))
            .add_test_case(case);
    }
    let mut report = Report::new("cattackle test");
    for (_, suite) in suites {
        report.add_test_suite(suite);
    }
    report.to_string().unwrap_or_default()
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
