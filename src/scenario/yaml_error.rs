//! A serde_yaml error as a positioned diagnostic, with the nearest valid key.

use std::path::Path;

use super::error::ScenarioError;
use crate::config::{Diagnostic, Severity, did_you_mean};

/// A serde_yaml error as a positioned diagnostic with the nearest valid key.
pub(super) fn yaml_error(path: &Path, text: &str, error: &serde_yaml::Error) -> ScenarioError {
    let full = error.to_string();
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full.clone(),
    };
    let offset = error.location().map_or(0, |l| l.index());
    let mut diagnostic_message = message.clone();
    let mut help = None;
    for marker in ["unknown field `", "unknown variant `"] {
        if let Some(start) = message.find(marker) {
            let rest = &message[start + marker.len()..];
            let unknown = rest.split('`').next().unwrap_or_default();
            let candidates: Vec<&str> = rest
                .split('`')
                .skip(1)
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, s)| s)
                .collect();
            let what = if marker.contains("field") {
                "key"
            } else {
                "value"
            };
            let prefix = &message[..start];
            diagnostic_message = format!("{prefix}unknown {what} `{unknown}`");
            help = Some(match did_you_mean(unknown, candidates.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!(
                    "expected one of {}",
                    candidates
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    let file = path.display().to_string();
    let start = offset.min(text.len());
    let (start, end) = match quoted_value_near(&message, text, start) {
        Some(span) => span,
        None => {
            let end = text[start..]
                .find([':', '\n', ',', '}'])
                .map_or(text.len(), |n| start + n)
                .max(start + 1)
                .min(text.len().max(start));
            (start, end)
        }
    };
    let mut diagnostic =
        Diagnostic::new(Severity::Error, &file, text, start..end, diagnostic_message);
    diagnostic.help = help;
    ScenarioError::Parse {
        diagnostic: Box::new(diagnostic),
        source_text: text.to_owned(),
    }
}

/// How far after serde's position a quoted value is looked for (serde_yaml places errors of a
/// value's own deserializer at the mapping that holds it).
const VALUE_WINDOW: usize = 400;

/// The span of the value an error quotes (`invalid duration unit `hours` in `2 hours``): the
/// longest backticked text of the message, before any suggestion, found just after `from`.
fn quoted_value_near(message: &str, text: &str, from: usize) -> Option<(usize, usize)> {
    if message.contains("unknown field `") {
        return None; // already at the key
    }
    if message.contains("missing field `") {
        return None; // the mapping that lacks it is the place; the name is nowhere near
    }
    let own = message.split(", did you mean").next().unwrap_or(message);
    let own = own.split(" (one of").next().unwrap_or(own);
    let window_end = text.len().min(from + VALUE_WINDOW);
    let window = text.get(from..window_end)?;
    own.split('`')
        .skip(1)
        .step_by(2)
        .filter(|quoted| !quoted.trim().is_empty())
        .filter_map(|quoted| {
            window
                .find(quoted)
                .map(|at| (from + at, from + at + quoted.len()))
        })
        .max_by_key(|(start, end)| (end - start, std::cmp::Reverse(*start)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_value_is_found_after_the_mapping_serde_points_at() {
        let text = "steps:\n  - wait: 2 hours\n";
        let message = "steps[0]: invalid duration unit `hours` in `2 hours`: use ms, s or m";
        let (start, end) = quoted_value_near(message, text, 10).unwrap();
        assert_eq!(&text[start..end], "2 hours");
    }

    #[test]
    fn a_missing_field_is_not_looked_for_further_down_the_file() {
        let text = "  - expect: { error: {} }\n  - expect: { error: { kind: x } }\n";
        let message = "steps[0].expect.error: missing field `kind`";
        assert_eq!(quoted_value_near(message, text, 21), None);
    }

    #[test]
    fn a_suggestion_is_not_taken_for_the_value() {
        let text = "error: { kind: exhausted, last: timed_ot }";
        let message = "unknown error kind `timed_ot`, did you mean `timed_out`? (one of: `x`)";
        let (start, end) = quoted_value_near(message, text, 0).unwrap();
        assert_eq!(&text[start..end], "timed_ot");
    }
}
