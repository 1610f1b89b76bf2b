//! Loading scenario files: YAML with positioned errors and nearest-key hints, the cattackle
//! configuration resolved, and the checks that need the whole file.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::config_span::{self, Written};
use super::model::{MockTransport, Scenario, ServerKind};
use crate::config::{self, CattackleConfig, ConfigError, Diagnostic, Severity, TransportKind};

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

/// Where a trial's server is: a mock over one transport, or the real cattackle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrialTarget {
    /// The mock, over this transport.
    Mock(MockTransport),
    /// The cattackle itself, over its configured transport.
    Real(TransportKind),
}

impl TrialTarget {
    /// The name used in trial names and snapshot names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mock(t) => t.as_str(),
            Self::Real(TransportKind::Stdio) => "real-stdio",
            Self::Real(TransportKind::WebSocket) => "real-websocket",
            Self::Real(TransportKind::Http) => "real-http",
        }
    }

    /// Whether the run uses a virtual clock by default.
    pub fn in_process(self) -> bool {
        matches!(self, Self::Mock(t) if t.in_process())
    }
}

/// A loaded scenario: the file, the parsed scenario and its cattackle configuration text.
#[derive(Clone, Debug)]
pub struct ScenarioFile {
    /// The file as named by the user.
    pub path: PathBuf,
    /// The name of its trials: the path under the scenarios root, without `.yaml`.
    pub id: String,
    /// What it says.
    pub scenario: Scenario,
    /// The `cattackle.toml` text (overrides applied); `{port}` is filled in at run time.
    pub config_text: String,
    /// How the configuration is named in its diagnostics.
    pub config_name: String,
    /// The configuration as loaded (with `{port}` = 1), for checks and for mock tools.
    pub config: CattackleConfig,
    /// The configuration's warnings (unknown keys with the nearest valid one, keys of another
    /// transport), rendered; empty when there are none. `cattackle test` prints them.
    pub config_warnings: String,
}

impl ScenarioFile {
    /// The runs it asks for, one per transport.
    pub fn targets(&self) -> Vec<TrialTarget> {
        match self.scenario.server {
            ServerKind::Real => vec![TrialTarget::Real(self.config.mcp.transport.kind())],
            ServerKind::Mock if self.scenario.transports.is_empty() => {
                vec![TrialTarget::Mock(MockTransport::Stdio)]
            }
            ServerKind::Mock => self
                .scenario
                .transports
                .iter()
                .map(|t| TrialTarget::Mock(*t))
                .collect(),
        }
    }

    /// The configuration with `{port}` replaced, and `overrides` (a reload) merged.
    pub fn config_for(
        &self,
        port: u16,
        reload: Option<&Value>,
    ) -> Result<CattackleConfig, ScenarioError> {
        let text = self.config_text.replace("{port}", &port.to_string());
        let text = match reload {
            Some(overrides) => merge_overrides(&text, overrides)
                .map_err(|message| self.invalid_at(0, format!("reload: {message}")))?,
            None => text,
        };
        config::load_str(&self.config_name, &text)
            .map(|loaded| loaded.config)
            .map_err(|source| {
                let scenario = std::fs::read_to_string(&self.path).unwrap_or_default();
                let written = match reload {
                    Some(_) => Written::InReload,
                    None => Written::InCattackle,
                };
                positioned(&self.path, &scenario, &text, source, written)
            })
    }

    fn invalid_at(&self, offset: usize, message: String) -> ScenarioError {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        invalid(&self.path, &text, offset, message)
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

/// Loads one scenario file. `root` names its trials (the path under `root`).
pub fn load_file(path: &Path, root: &Path) -> Result<ScenarioFile, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
        path: path.to_owned(),
        source,
    })?;
    let id = path
        .strip_prefix(root)
        .unwrap_or(path)
        .with_extension("")
        .to_string_lossy()
        .replace('\\', "/");
    load_str(path, &id, &text)
}

/// Loads a scenario from `text`, as if read from `path`.
pub fn load_str(path: &Path, id: &str, text: &str) -> Result<ScenarioFile, ScenarioError> {
    let scenario: Scenario =
        serde_yaml::from_str(text).map_err(|e| super::yaml_error::yaml_error(path, text, &e))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let (config_text, config_name) = config_source(path, text, base, &scenario)?;
    let merged = config_text.replace("{port}", "1");
    let loaded = config::load_str(&config_name, &merged)
        .map_err(|source| positioned(path, text, &merged, source, Written::InCattackle))?;
    let config_warnings = render_warnings(path, text, &merged, &loaded);
    let file = ScenarioFile {
        path: path.to_owned(),
        id: id.to_owned(),
        scenario,
        config_text,
        config_name,
        config: loaded.config,
        config_warnings,
    };
    super::check::check(&file, text)?;
    check_reloads(&file, &file.scenario.steps, &mut None)?;
    Ok(file)
}

/// A configuration error, with each diagnostic moved to the scenario file where it was written
/// there (`overrides`, `inline`, a `reload`); as it came when any of them was not.
fn positioned(
    path: &Path,
    text: &str,
    merged: &str,
    error: ConfigError,
    written: Written,
) -> ScenarioError {
    let file = path.display().to_string();
    if let ConfigError::Invalid { diagnostics, .. } = &error {
        let moved: Option<Vec<Diagnostic>> = diagnostics
            .iter()
            .map(|d| config_span::moved(d, merged, &file, text, written))
            .collect();
        if let Some(diagnostics) = moved.filter(|m| !m.is_empty()) {
            return ScenarioError::Config {
                file,
                source: ConfigError::Invalid {
                    path: path.to_owned(),
                    source_text: text.to_owned(),
                    diagnostics,
                },
            };
        }
    }
    ScenarioError::Config {
        file,
        source: error,
    }
}

/// The configuration's warnings, rendered; each at the scenario's key where it wrote it.
fn render_warnings(path: &Path, text: &str, merged: &str, loaded: &config::Loaded) -> String {
    let file = path.display().to_string();
    let rendered: Vec<String> = loaded
        .warnings
        .iter()
        .map(
            |w| match config_span::moved(w, merged, &file, text, Written::InCattackle) {
                Some(moved) => moved.render(text),
                None => w.render(&loaded.source_text),
            },
        )
        .collect();
    rendered.join("\n\n")
}

/// Every `reload` gives a configuration that loads, checked now rather than when the step runs.
/// Reloads accumulate, as they do when the steps run.
fn check_reloads(
    file: &ScenarioFile,
    steps: &[super::model::Step],
    merged: &mut Option<Value>,
) -> Result<(), ScenarioError> {
    use super::model::StepAction;
    for step in steps {
        match &step.action {
            StepAction::Reload(reload) => {
                if let Some(overrides) = &reload.overrides {
                    let mut next = merged.take().unwrap_or(Value::Object(Default::default()));
                    crate::util::merge_json(&mut next, overrides);
                    *merged = Some(next);
                }
                file.config_for(1, merged.as_ref())?;
            }
            StepAction::Concurrent(inner) | StepAction::Sequence(inner) => {
                check_reloads(file, inner, merged)?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn config_source(
    path: &Path,
    text: &str,
    base: &Path,
    scenario: &Scenario,
) -> Result<(String, String), ScenarioError> {
    let spec = &scenario.cattackle;
    let at = super::check::top_key(text, "cattackle");
    let (raw, name) = match (&spec.file, &spec.inline) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                path,
                text,
                at,
                "`cattackle` takes `file` or `inline`, not both".into(),
            ));
        }
        (None, None) => {
            return Err(invalid(
                path,
                text,
                at,
                "`cattackle` needs `file` (a cattackle.toml) or `inline` (its [cattackle] table)"
                    .into(),
            ));
        }
        (Some(file), None) => {
            let mut file = base.join(file);
            if file.is_dir() {
                file = file.join(config::FILE_NAME);
            }
            let raw = std::fs::read_to_string(&file).map_err(|source| ScenarioError::Io {
                path: file.clone(),
                source,
            })?;
            // Positioned diagnostics for the file as written, before any override.
            config::load_str(file.display().to_string(), &raw.replace("{port}", "1")).map_err(
                |source| ScenarioError::Config {
                    file: path.display().to_string(),
                    source,
                },
            )?;
            (raw, file.display().to_string())
        }
        (None, Some(inline)) => {
            let table =
                toml::Value::try_from(serde_json::json!({ "cattackle": inline })).map_err(|e| {
                    invalid(
                        path,
                        text,
                        at,
                        format!("`cattackle.inline` is not a valid table: {e}"),
                    )
                })?;
            let raw = toml::to_string(&table)
                .map_err(|e| invalid(path, text, at, format!("`cattackle.inline`: {e}")))?;
            (raw, format!("{} (cattackle.inline)", path.display()))
        }
    };
    match &spec.overrides {
        None => Ok((raw, name)),
        Some(overrides) => {
            let merged = merge_overrides(&raw, overrides)
                .map_err(|m| invalid(path, text, at, format!("`cattackle.overrides`: {m}")))?;
            Ok((merged, format!("{name} (with the scenario's overrides)")))
        }
    }
}

/// Merges `overrides` (a mapping) over the `[cattackle]` table of `toml_text` (or its root, in
/// the flat form).
fn merge_overrides(toml_text: &str, overrides: &Value) -> Result<String, String> {
    let mut doc: toml::Table = toml_text
        .parse()
        .map_err(|e: toml::de::Error| e.to_string())?;
    let overrides = toml::Value::try_from(overrides).map_err(|e| e.to_string())?;
    let toml::Value::Table(overrides) = overrides else {
        return Err("must be a mapping".to_owned());
    };
    let target = match doc.get_mut("cattackle") {
        Some(toml::Value::Table(t)) => t,
        _ => &mut doc,
    };
    merge(target, overrides);
    toml::to_string(&doc).map_err(|e| e.to_string())
}

fn merge(into: &mut toml::Table, from: toml::Table) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// Every `.yaml`/`.yml` file under `paths` (files as given, directories recursively, sorted).
/// Directories named `invalid` are skipped unless named directly: they hold files that must
/// fail to load.
pub fn collect_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out)?;
        } else if path.is_file() {
            out.push(path.clone());
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{}: no such file or directory", path.display()),
            ));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name != "invalid" && name != "snapshots" {
                walk(&path, out)?;
            }
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// The JSON Schema of scenario files, generated from the Rust types.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Scenario);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
