//! [`ScenarioError`], and positions in a scenario file for the errors the loader finds.

use std::path::{Path, PathBuf};

use crate::config::{ConfigError, Diagnostic, Severity};

/// Why a scenario file cannot run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The YAML is invalid or does not fit the format.
    #[error("{diagnostic}")]
    Parse {
        /// Where and what.
        diagnostic: Box<Diagnostic>,
        /// The file's text, for rendering.
        source_text: String,
    },
    /// The cattackle configuration the scenario names does not load.
    #[error("{file}: the cattackle configuration does not load:\n{source}")]
    Config {
        /// The scenario file.
        file: String,
        /// Why.
        source: ConfigError,
    },
}

impl ScenarioError {
    /// Rendered for people, with the offending line for parse errors.
    pub fn render(&self) -> String {
        match self {
            Self::Parse {
                diagnostic,
                source_text,
            } => diagnostic.render(source_text),
            Self::Config { file, source } => {
                format!(
                    "{file}: the cattackle configuration does not load:\n{}",
                    source.render()
                )
            }
            other => other.to_string(),
        }
    }
}

pub(super) fn invalid(path: &Path, text: &str, offset: usize, message: String) -> ScenarioError {
    let file = path.display().to_string();
    let end = text[offset.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |n| offset + n);
    ScenarioError::Parse {
        diagnostic: Box::new(Diagnostic::new(
            Severity::Error,
            &file,
            text,
            offset.min(text.len())..end.max(offset.min(text.len())),
            message,
        )),
        source_text: text.to_owned(),
    }
}

/// Byte offset of a top-level key, or 0.
pub(super) fn top_key(text: &str, key: &str) -> usize {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with(key) && line[key.len()..].trim_start().starts_with(':') {
            return offset;
        }
        offset += line.len();
    }
    0
}
