//! Loading scenario files: YAML with positioned errors and nearest-key hints, the cattackle
//! configuration resolved, and the checks that need the whole file.

use std::path::Path;

use serde_json::Value;

use super::config_span::{self, Written};
use super::error::{ScenarioError, invalid, top_key};
use super::file::ScenarioFile;
use super::model::Scenario;
use crate::config::{self, CattackleConfig, ConfigError, Diagnostic};
use crate::util::text::{MAX_FLOW_DEPTH, ReadError, read_text, too_deep_yaml};

/// Loads one scenario file. `root` names its trials (the path under `root`).
pub fn load_file(path: &Path, root: &Path) -> Result<ScenarioFile, ScenarioError> {
    let text = match read_text(path) {
        Ok(text) => text,
        Err(ReadError::Io(source)) => {
            return Err(ScenarioError::Io {
                path: path.to_owned(),
                source,
            });
        }
        Err(ReadError::NotUtf8 { offset, lossy }) => {
            return Err(invalid(
                path,
                &lossy,
                offset,
                "this byte is not UTF-8: save the file as UTF-8".to_owned(),
            ));
        }
    };
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
    if let Some(at) = too_deep_yaml(text) {
        return Err(invalid(
            path,
            text,
            at,
            format!(
                "nested deeper than {MAX_FLOW_DEPTH} levels of `[` and `{{`: no scenario needs that"
            ),
        ));
    }
    let scenario: Scenario =
        serde_yaml::from_str(text).map_err(|e| super::yaml_error::yaml_error(path, text, &e))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let (config_text, config_name) = config_source(path, text, base, &scenario)?;
    // `{port}` stays as written: each trial fills it in (see `ScenarioFile::config`).
    let loaded = config::load_str(&config_name, &config_text)
        .map_err(|source| positioned(path, text, &config_text, source, Written::InCattackle))?;
    let config_warnings = render_warnings(path, text, &config_text, &loaded);
    let mut file = ScenarioFile {
        path: path.to_owned(),
        id: id.to_owned(),
        scenario,
        config_text,
        config_name,
        config: loaded.config,
        config_warnings,
    };
    super::check::check(&file, text)?;
    let mut steps = std::mem::take(&mut file.scenario.steps);
    let reloads = build_reloads(&file, text, &mut steps, &mut None);
    file.scenario.steps = steps;
    reloads?;
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

/// Builds the configuration of every `reload` step now, once, so that one that does not load
/// is an error at load time, positioned at the step, rather than when the step runs. Reloads
/// accumulate, as they do when the steps run.
fn build_reloads(
    file: &ScenarioFile,
    text: &str,
    steps: &mut [super::model::Step],
    merged: &mut Option<Value>,
) -> Result<(), ScenarioError> {
    use super::model::StepAction;
    for step in steps {
        match &mut step.action {
            StepAction::Reload(reload) => {
                if let Some(overrides) = &reload.overrides {
                    let mut next = merged.take().unwrap_or(Value::Object(Default::default()));
                    crate::util::merge_json(&mut next, overrides);
                    *merged = Some(next);
                }
                let config = reload_config(file, text, merged.as_ref())?;
                reload.config = Some(Box::new(config));
            }
            StepAction::Concurrent(inner) | StepAction::Sequence(inner) => {
                build_reloads(file, text, inner, merged)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The scenario's configuration with the accumulated `reload` overrides merged in.
fn reload_config(
    file: &ScenarioFile,
    text: &str,
    merged: Option<&Value>,
) -> Result<CattackleConfig, ScenarioError> {
    let source = match merged {
        Some(overrides) => merge_overrides(&file.config_text, overrides)
            .map_err(|message| invalid(&file.path, text, 0, format!("reload: {message}")))?,
        None => file.config_text.clone(),
    };
    config::load_str(&file.config_name, &source)
        .map(|loaded| loaded.config)
        .map_err(|error| positioned(&file.path, text, &source, error, Written::InReload))
}

fn config_source(
    path: &Path,
    text: &str,
    base: &Path,
    scenario: &Scenario,
) -> Result<(String, String), ScenarioError> {
    let spec = &scenario.cattackle;
    let at = top_key(text, "cattackle");
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
            config::load_str(file.display().to_string(), &raw).map_err(|source| {
                ScenarioError::Config {
                    file: path.display().to_string(),
                    source,
                }
            })?;
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

/// The JSON Schema of scenario files, generated from the Rust types.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Scenario);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
