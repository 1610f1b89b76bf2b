//! A serde_yaml error as a positioned diagnostic, with the nearest valid key.

use std::path::Path;

use super::ScenarioError;
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
    let end = text[start..]
        .find([':', '\n', ',', '}'])
        .map_or(text.len(), |n| start + n)
        .max(start + 1)
        .min(text.len().max(start));
    let mut diagnostic =
        Diagnostic::new(Severity::Error, &file, text, start..end, diagnostic_message);
    diagnostic.help = help;
    ScenarioError::Parse {
        diagnostic: Box::new(diagnostic),
        source_text: text.to_owned(),
    }
}
