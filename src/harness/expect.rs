//! Checking outcomes against expectations, with diffs that say what differs.

use std::time::Duration;

use serde_json::Value;

use super::outcome::{Failure, Outcome};
use crate::journal::Received;
use crate::scenario::model::{Expect, ServerExpectation};
use crate::scenario::{Dur, contains};

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

/// What the manager says after a step.
pub(crate) struct After {
    /// Sessions opened so far.
    pub(crate) sessions: u64,
    /// The breaker's state (`closed`, `open`, `half_open`), if the cattackle has one.
    pub(crate) breaker: Option<&'static str>,
    /// The manager's metrics, as OpenMetrics text.
    pub(crate) metrics: String,
}

/// The sum of the samples of metric `key` (`name`, or `name{label="value",…}` for the series
/// with those labels) in OpenMetrics `text`; `None` when no sample matches.
pub(crate) fn metric(text: &str, key: &str) -> Option<f64> {
    let (name, wanted) = match key.split_once('{') {
        Some((name, labels)) => (name, labels.trim_end_matches('}')),
        None => (key, ""),
    };
    let wanted: Vec<&str> = wanted
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut sum = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (series_name, labels) = match series.split_once('{') {
            Some((n, l)) => (n, l.trim_end_matches('}')),
            None => (series, ""),
        };
        if series_name != name {
            continue;
        }
        let have: Vec<&str> = labels.split(',').map(str::trim).collect();
        if wanted.iter().all(|w| have.contains(w))
            && let Ok(v) = value.parse::<f64>()
        {
            *sum.get_or_insert(0.0) += v;
        }
    }
    sum
}

/// Checks one step; returns what failed.
pub(crate) fn step(
    expect: &Expect,
    call: Option<&(Outcome, Vec<Duration>)>,
    elapsed: Duration,
    after: &After,
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
        && want != after.sessions
    {
        failures.push(format!(
            "sessions opened: expected {want}, got {}",
            after.sessions
        ));
    }
    for (key, want) in expect.metrics.iter().flatten() {
        let got = metric(&after.metrics, key);
        if got != Some(*want) && !(got.is_none() && *want == 0.0) {
            failures.push(format!(
                "metric {key}: expected {want}, got {}",
                got.map_or("no such series".to_owned(), |g| g.to_string())
            ));
        }
    }
    if let Some(want) = expect.breaker {
        let got = after
            .breaker
            .unwrap_or("none (no call went through a breaker)");
        if want.as_str() != got {
            failures.push(format!("breaker: expected {}, got {got}", want.as_str()));
        }
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
                fallback,
            } => {
                if let Some(want) = &want.fallback
                    && fallback.as_deref() != Some(want.as_str())
                {
                    failures.push(format!(
                        "fallback: expected {want:?}, got {}",
                        fallback
                            .as_deref()
                            .map_or("none".to_owned(), |f| format!("{f:?}"))
                    ));
                }
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
    let mut parts = vec![w.method_or_default().to_owned()];
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
    if want.method_or_default() != got.method {
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
        let count = received.iter().filter(|r| want.counts(r)).count() as u32;
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
            .filter(|r| !want.counts(r))
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

#[cfg(test)]
mod tests {
    use super::metric;

    const TEXT: &str = "# TYPE cattackle_calls counter\n\
        cattackle_calls_total{cattackle=\"echo\",outcome=\"ok\"} 3\n\
        cattackle_calls_total{cattackle=\"echo\",outcome=\"exhausted\"} 2\n\
        cattackle_retries_total{cattackle=\"echo\"} 4\n# EOF\n";

    #[test]
    fn a_metric_sums_its_series_or_picks_one_by_labels() {
        assert_eq!(metric(TEXT, "cattackle_calls_total"), Some(5.0));
        assert_eq!(
            metric(TEXT, "cattackle_calls_total{outcome=\"ok\"}"),
            Some(3.0)
        );
        assert_eq!(metric(TEXT, "cattackle_retries_total"), Some(4.0));
        assert_eq!(metric(TEXT, "cattackle_timeouts_total"), None);
        assert_eq!(
            metric(TEXT, "cattackle_calls"),
            None,
            "the sample name, not the family's"
        );
    }
}
