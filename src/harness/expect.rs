//! Checking outcomes against expectations, with diffs that say what differs.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::journal::Redactor;
use super::runner::Failure;
use crate::manager::{CattackleError, CattackleResponse};
use crate::mock::{Received, call_matches, contains};
use crate::scenario::Dur;
use crate::scenario::model::{Expect, ServerExpectation};

/// How a call ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A cattackle response.
    Ok(CattackleResponse),
    /// A raw MCP result (`raw` calls).
    Raw(Value),
    /// An error.
    Err {
        /// [`crate::manager::ErrorKind`] name.
        kind: String,
        /// The message.
        message: String,
        /// For `exhausted`: the last attempt's kind.
        last: Option<String>,
    },
    /// The call itself was invalid (a payload that is not an object).
    Invalid(String),
}

impl Outcome {
    pub(crate) fn from_error(e: &CattackleError) -> Self {
        let last = match e {
            CattackleError::Exhausted { last, .. } => Some(last.kind().as_str().to_owned()),
            _ => None,
        };
        Self::Err {
            kind: e.kind().as_str().to_owned(),
            message: e.to_string(),
            last,
        }
    }

    pub(crate) fn redacted(self, redactor: &Redactor) -> Self {
        match self {
            Self::Err {
                kind,
                message,
                last,
            } => Self::Err {
                kind,
                message: redactor.apply(&message),
                last,
            },
            Self::Invalid(m) => Self::Invalid(redactor.apply(&m)),
            other => other,
        }
    }

    /// The outcome without details that vary between real runs (error messages).
    pub(crate) fn stable(&self) -> String {
        match self {
            Self::Err { kind, last, .. } => match last {
                Some(last) => format!("error {kind} (last: {last})"),
                None => format!("error {kind}"),
            },
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok(r) => write!(
                f,
                "ok {}",
                serde_json::json!({ "data": r.data, "error": r.error, "is_error": r.is_error })
            ),
            Self::Raw(v) => write!(f, "raw {v}"),
            Self::Err { kind, message, .. } => write!(f, "error {kind}: {message}"),
            Self::Invalid(m) => write!(f, "invalid call: {m}"),
        }
    }
}

/// Two values, side by side; a line diff when they span several lines.
pub(crate) fn diff(what: &str, expected: &str, actual: &str) -> String {
    if !expected.contains('\n') && !actual.contains('\n') {
        return format!("{what}: expected {expected}, got {actual}");
    }
    let diff = similar::TextDiff::from_lines(expected, actual);
    let mut out = format!("{what} differs (- expected, + actual):\n");
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Equal => ' ',
        };
        out.push_str(&format!("  {sign} {}", change.value()));
        if !change.value().ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

fn show(v: &Value) -> String {
    match v {
        Value::Object(_) | Value::Array(_) => serde_json::to_string_pretty(v).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn near(expected: Duration, actual: Duration, tolerance: Duration) -> bool {
    expected.abs_diff(actual) <= tolerance
}

/// Checks one step; returns what failed.
pub(crate) fn step(
    expect: &Expect,
    call: Option<&(Outcome, Vec<Duration>)>,
    elapsed: Duration,
    sessions: u64,
    real_clock: bool,
) -> Vec<String> {
    let mut failures = Vec::new();
    let tolerance = match (real_clock, expect.tolerance) {
        (_, Some(t)) => t.0,
        (true, None) => Duration::from_millis(250),
        (false, None) => Duration::ZERO,
    };
    if let Some((outcome, attempts)) = call {
        failures.extend(outcome_failures(expect, outcome));
        if let Some(n) = expect.attempts
            && attempts.len() != n as usize
        {
            failures.push(format!("attempts: expected {n}, got {}", attempts.len()));
        }
        if let Some(schedule) = &expect.schedule {
            let got: Vec<String> = attempts.iter().map(|d| Dur(*d).to_string()).collect();
            let want: Vec<String> = schedule.iter().map(ToString::to_string).collect();
            let same = schedule.len() == attempts.len()
                && schedule
                    .iter()
                    .zip(attempts)
                    .all(|(w, g)| near(w.0, *g, tolerance));
            if !same {
                failures.push(format!(
                    "schedule: expected [{}], got [{}]{}",
                    want.join(", "),
                    got.join(", "),
                    tolerance_note(tolerance)
                ));
            }
        }
    }
    if let Some(want) = expect.elapsed
        && !near(want.0, elapsed, tolerance)
    {
        failures.push(format!(
            "elapsed: expected {want}, got {}{}",
            Dur(elapsed),
            tolerance_note(tolerance)
        ));
    }
    if let Some(want) = expect.sessions
        && want != sessions
    {
        failures.push(format!("sessions opened: expected {want}, got {sessions}"));
    }
    failures
}

fn tolerance_note(tolerance: Duration) -> String {
    if tolerance.is_zero() {
        String::new()
    } else {
        format!(" (± {})", Dur(tolerance))
    }
}

fn outcome_failures(expect: &Expect, outcome: &Outcome) -> Vec<String> {
    let mut failures = Vec::new();
    if let Some(ok) = &expect.ok {
        match outcome {
            Outcome::Ok(r) => {
                if let Some(want) = &ok.data
                    && *want != Value::String(r.data.clone())
                {
                    failures.push(diff(
                        "data",
                        &show(want),
                        &show(&Value::String(r.data.clone())),
                    ));
                }
                let got_error = r.error.clone().map_or(Value::Null, Value::String);
                if let Some(want) = &ok.error
                    && *want != got_error
                {
                    failures.push(diff("error", &show(want), &show(&got_error)));
                }
                if let Some(want) = ok.is_error
                    && want != r.is_error
                {
                    failures.push(format!("is_error: expected {want}, got {}", r.is_error));
                }
            }
            Outcome::Raw(result) => {
                if let Some(want) = &ok.data
                    && !contains(result, want)
                {
                    failures.push(diff("result", &show(want), &show(result)));
                }
                let got = result
                    .get("isError")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if let Some(want) = ok.is_error
                    && want != got
                {
                    failures.push(format!("is_error: expected {want}, got {got}"));
                }
            }
            other => failures.push(format!("expected ok, got {other}")),
        }
    }
    if let Some(want) = &expect.error {
        match outcome {
            Outcome::Err {
                kind,
                message,
                last,
            } => {
                if kind.as_str() != want.kind.as_str() {
                    failures.push(format!(
                        "error kind: expected {}, got {kind} ({message})",
                        want.kind
                    ));
                }
                if let Some(pattern) = &want.message {
                    match regex_lite::Regex::new(pattern) {
                        Ok(re) if re.is_match(message) => {}
                        Ok(_) => failures.push(format!(
                            "error message: expected a match for /{pattern}/, got {message:?}"
                        )),
                        Err(e) => failures.push(format!("error.message is not a valid regex: {e}")),
                    }
                }
                if let Some(want_last) = &want.last
                    && last.as_deref() != Some(want_last.as_str())
                {
                    failures.push(format!(
                        "last error kind: expected {want_last}, got {}",
                        last.as_deref().unwrap_or("none")
                    ));
                }
            }
            other => failures.push(format!("expected error {}, got {other}", want.kind)),
        }
    }
    failures
}

fn request_matches(want: &ServerExpectation, got: &Received) -> bool {
    let method = want
        .method
        .as_deref()
        .or(want.tool.as_ref().map(|_| "tools/call"));
    method.is_none_or(|m| m == got.method)
        && call_matches(
            want.tool.as_deref(),
            want.arguments.as_ref(),
            got.tool.as_deref(),
            got.arguments.as_ref(),
        )
}

fn describe_request(r: &Received) -> String {
    let mut s = format!("c{} {}", r.conn, r.method);
    if let Some(tool) = &r.tool {
        s.push_str(&format!(" {tool}"));
    }
    if let Some(args) = &r.arguments {
        s.push_str(&format!(" {args}"));
    }
    s
}

fn describe_want(w: &ServerExpectation) -> String {
    let mut parts = Vec::new();
    parts.push(w.method.clone().unwrap_or_else(|| {
        if w.tool.is_some() {
            "tools/call".into()
        } else {
            "any method".into()
        }
    }));
    if let Some(t) = &w.tool {
        parts.push(t.clone());
    }
    if let Some(a) = &w.arguments {
        parts.push(format!("with arguments containing {a}"));
    }
    parts.join(" ")
}

/// How far a received request is from an expectation (lower is closer).
fn distance(want: &ServerExpectation, got: &Received) -> usize {
    let mut d = 0;
    if want.method.as_deref().is_some_and(|m| m != got.method) {
        d += 4;
    }
    if want
        .tool
        .as_deref()
        .is_some_and(|t| Some(t) != got.tool.as_deref())
    {
        d += 2;
    }
    if let Some(w) = &want.arguments {
        d += match (w, &got.arguments) {
            (Value::Object(w), Some(Value::Object(g))) => w
                .iter()
                .filter(|(k, v)| !g.get(*k).is_some_and(|gv| contains(gv, v)))
                .count(),
            _ => 1,
        };
    }
    d
}

/// Checks what the server received; a miss names the closest request that did not match.
pub(crate) fn server(expectations: &[ServerExpectation], received: &[Received]) -> Vec<Failure> {
    let mut failures = Vec::new();
    for (i, want) in expectations.iter().enumerate() {
        let count = received.iter().filter(|r| request_matches(want, r)).count() as u32;
        let (ok, range) = match (want.times, want.min, want.max) {
            (Some(n), _, _) => (count == n, format!("exactly {n}")),
            (None, None, None) => (count >= 1, "at least 1".to_owned()),
            (None, min, max) => {
                let min = min.unwrap_or(0);
                let ok = count >= min && max.is_none_or(|m| count <= m);
                let range = match max {
                    Some(max) => format!("{min} to {max}"),
                    None => format!("at least {min}"),
                };
                (ok, range)
            }
        };
        if ok {
            continue;
        }
        let mut message = format!(
            "expected {range} × {}, received {count}",
            describe_want(want)
        );
        let closest = received
            .iter()
            .filter(|r| !request_matches(want, r))
            .min_by_key(|r| distance(want, r));
        match closest {
            Some(r) if count == 0 || want.times.is_some_and(|n| count < n) => {
                message.push_str(&format!(
                    "; closest unmatched request: {}",
                    describe_request(r)
                ));
            }
            _ => {}
        }
        if received.is_empty() {
            message.push_str("; the server received no request");
        }
        failures.push(Failure {
            at: format!("server_expect[{i}]"),
            message,
        });
    }
    failures
}
