//! Reading `cattackle.toml` files, directories holding one, and cattackles directories.

use std::path::{Path, PathBuf};

use super::{CattackleConfig, Diagnostic, Severity, parse::parse};
use crate::util::text::{ReadError, read_text};

/// The file name a cattackle directory holds.
pub const FILE_NAME: &str = "cattackle.toml";

/// A configuration that loaded, with the warnings of its file.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The configuration, with [`CattackleConfig::source`] set.
    pub config: CattackleConfig,
    /// Unknown keys and other things that did not stop the file from loading.
    pub warnings: Vec<Diagnostic>,
    /// The text of the file, to render the warnings against.
    pub source_text: String,
}

impl Loaded {
    /// Renders every warning rustc-style.
    pub fn render_warnings(&self) -> String {
        render_all(&self.warnings, &self.source_text)
    }
}

/// Why a configuration did not load.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file or directory could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// What was read.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A directory was given that holds no `cattackle.toml`.
    #[error("`{}` holds no {FILE_NAME}", path.display())]
    NoConfigInDir {
        /// The directory.
        path: PathBuf,
    },
    /// The file has errors; every diagnostic of the file is kept, warnings included.
    #[error("{}", summary(diagnostics))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Its text, to render the diagnostics against.
        source_text: String,
        /// Errors and warnings, in file order.
        diagnostics: Vec<Diagnostic>,
    },
}

impl ConfigError {
    /// Renders the error for a person: rustc-style diagnostics for an invalid file.
    pub fn render(&self) -> String {
        match self {
            Self::Invalid {
                source_text,
                diagnostics,
                ..
            } => render_all(diagnostics, source_text),
            other => format!("error: {other}"),
        }
    }

    /// The diagnostics of an invalid file; empty for other errors.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Self::Invalid { diagnostics, .. } => diagnostics,
            _ => &[],
        }
    }
}

fn summary(diagnostics: &[Diagnostic]) -> String {
    let lines: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(ToString::to_string)
        .collect();
    lines.join("\n")
}

fn render_all(diagnostics: &[Diagnostic], source: &str) -> String {
    let rendered: Vec<String> = diagnostics.iter().map(|d| d.render(source)).collect();
    rendered.join("\n\n")
}

/// Parses configuration text; `file` is the name used in diagnostics.
pub fn load_str(file: impl AsRef<Path>, text: &str) -> Result<Loaded, ConfigError> {
    let path = file.as_ref();
    let (config, diagnostics, secrets) = parse(&path.display().to_string(), text);
    // Diagnostics quote source lines: render them from a text whose secrets are masked.
    let source_text = super::parse::masked(text, &secrets);
    match config {
        Some(mut config) => {
            config.source = Some(path.to_owned());
            Ok(Loaded {
                config,
                warnings: diagnostics,
                source_text,
            })
        }
        None => Err(ConfigError::Invalid {
            path: path.to_owned(),
            source_text,
            diagnostics,
        }),
    }
}

/// Loads a `cattackle.toml`, or the one inside a directory.
pub fn load_path(path: impl AsRef<Path>) -> Result<Loaded, ConfigError> {
    let path = path.as_ref();
    let file = if path.is_dir() {
        let file = path.join(FILE_NAME);
        if !file.is_file() {
            return Err(ConfigError::NoConfigInDir {
                path: path.to_owned(),
            });
        }
        file
    } else {
        path.to_owned()
    };
    let text = match read_text(&file) {
        Ok(text) => text,
        Err(ReadError::Io(source)) => return Err(ConfigError::Io { path: file, source }),
        Err(ReadError::NotUtf8 { offset, lossy }) => {
            let name = file.display().to_string();
            let message = "this byte is not UTF-8: save the file as UTF-8".to_owned();
            let width = lossy[offset..].chars().next().map_or(0, char::len_utf8);
            let span = offset..offset + width;
            let diagnostic = Diagnostic::new(Severity::Error, &name, &lossy, span, message);
            return Err(ConfigError::Invalid {
                path: file,
                source_text: lossy,
                diagnostics: vec![diagnostic],
            });
        }
    };
    load_str(&file, &text)
}

/// Scans a cattackles directory as the original registry does: every immediate child directory
/// holding a `cattackle.toml`, in name order. Each entry is loaded on its own, so one bad file
/// does not hide the others.
pub fn scan_dir(dir: impl AsRef<Path>) -> Result<Vec<Result<Loaded, ConfigError>>, ConfigError> {
    let dir = dir.as_ref();
    let io = |source| ConfigError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.join(FILE_NAME).is_file())
        .collect();
    children.sort();
    Ok(children.into_iter().map(load_path).collect())
}
