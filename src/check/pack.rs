//! Checks written as data: YAML files of raw wire steps (send a request, a notification or a
//! raw frame; expect a frame pattern; the session survives). The built-in ones live in
//! `src/check/pack/` and are embedded in the binary; `--pack DIR` adds a team's own.
//!
//! ```yaml
//! - id: lifecycle.ping
//!   area: lifecycle
//!   severity: must
//!   reference: "{spec}/basic/utilities/ping"
//!   summary: ping is answered with an empty result
//!   eras: [2025]
//!   steps:
//!     - request: { method: ping }
//!       expect: { result: $object }
//!       fail: "`ping` was not answered with a result"
//! ```
//!
//! Patterns match a frame when every key they name is there and matches (other keys are
//! allowed); arrays match element by element; `$any`, `$absent`, `$string`, `$number`,
//! `$integer`, `$boolean`, `$object`, `$array` and `$null` match by kind; other values by
//! equality. `{{command}}` in any string is the declared command, with `each_command: true`.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use super::ctx::{Ctx, Era};
use super::def::{CheckDef, Needs};
use super::model::{Area, Finding, Severity, Verdict};

/// The built-in data checks, embedded.
const BUILTIN: &[(&str, &str)] = &[
    (
        "src/check/pack/lifecycle.yaml",
        include_str!("pack/lifecycle.yaml"),
    ),
    ("src/check/pack/tools.yaml", include_str!("pack/tools.yaml")),
];

/// One check, as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataCheck {
    /// Stable id, `area.name`.
    pub id: String,
    /// Its area (one of the report's areas).
    pub area: Area,
    /// `must`, `should` or `info`.
    pub severity: Severity,
    /// Spec section (`{spec}` is the negotiated era's specification) or contract section.
    pub reference: String,
    /// What it sends and what passes, in one line.
    pub summary: String,
    /// What it needs of the target: `nothing` (default), `cattackle`, `stdio`, `http`,
    /// `websocket`.
    #[serde(default)]
    pub needs: NeedsSpec,
    /// The eras it applies to: `2025` (initialize), `2026` (server/discover). Default both.
    #[serde(default)]
    pub eras: Vec<EraSpec>,
    /// Run the steps once per declared command, with `{{command}}` filled in.
    #[serde(default)]
    pub each_command: bool,
    /// What passing says.
    #[serde(default)]
    pub pass: Option<String>,
    /// In order, on one fresh session after its handshake.
    pub steps: Vec<Step>,
}

/// `needs:` as written.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NeedsSpec {
    /// Any server.
    #[default]
    Nothing,
    /// A cattackle.
    Cattackle,
    /// stdio.
    Stdio,
    /// Streamable HTTP.
    Http,
    /// WebSocket.
    Websocket,
}

/// An era, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum EraSpec {
    /// `initialize`.
    #[serde(rename = "2025")]
    Initialize,
    /// `server/discover`.
    #[serde(rename = "2026")]
    Discover,
}

/// One wire step.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Send a request (`method`, `params`) and wait for its answer.
    #[serde(default)]
    pub request: Option<Message>,
    /// Send a notification.
    #[serde(default)]
    pub notify: Option<Message>,
    /// Send this frame as it is (it may be malformed on purpose).
    #[serde(default)]
    pub send_raw: Option<String>,
    /// The session still answers (a ping; server/discover in the 2026 era).
    #[serde(default)]
    pub survives: bool,
    /// The answer to `request` matches this pattern.
    #[serde(default)]
    pub expect: Option<Value>,
    /// …or one of these.
    #[serde(default)]
    pub expect_one_of: Vec<Value>,
    /// What a mismatch means, in one line.
    #[serde(default)]
    pub fail: Option<String>,
}

/// A method and its params.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// The method.
    pub method: String,
    /// Its params; default `{}`.
    #[serde(default)]
    pub params: Option<Value>,
}

/// Why a pack could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackError {
    /// Not readable.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not the format.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based.
        line: usize,
        /// 1-based.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A check that cannot run as written.
    #[error("{path}: check `{id}`: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// The check.
        id: String,
        /// What is wrong.
        message: String,
    },
}

/// The checks of one YAML text.
pub fn parse(path: &str, text: &str) -> Result<Vec<DataCheck>, PackError> {
    let checks: Vec<DataCheck> = serde_yaml::from_str(text).map_err(|e| {
        let location = e.location();
        PackError::Parse {
            path: path.to_owned(),
            line: location.as_ref().map_or(1, |l| l.line()),
            column: location.as_ref().map_or(1, |l| l.column()),
            message: with_nearest(e.to_string().split(" at line ").next().unwrap_or_default()),
        }
    })?;
    for check in &checks {
        let invalid = |message: &str| PackError::Invalid {
            path: path.to_owned(),
            id: check.id.clone(),
            message: message.to_owned(),
        };
        if !check.id.contains('.') {
            return Err(invalid("an id is `area.name`"));
        }
        if check.steps.is_empty() {
            return Err(invalid("a check needs at least one step"));
        }
        for step in &check.steps {
            let actions = [
                step.request.is_some(),
                step.notify.is_some(),
                step.send_raw.is_some(),
                step.survives,
            ];
            if actions.iter().filter(|a| **a).count() != 1 {
                return Err(invalid(
                    "each step has exactly one of `request`, `notify`, `send_raw`, `survives`",
                ));
            }
            let expects = step.expect.is_some() || !step.expect_one_of.is_empty();
            if expects && step.request.is_none() {
                return Err(invalid("`expect` and `expect_one_of` go with a `request`"));
            }
        }
    }
    Ok(checks)
}

/// serde's "unknown field `x`, expected one of `a`, `b`", with the nearest of them named.
fn with_nearest(message: &str) -> String {
    let Some((_, rest)) = message.split_once("unknown field `") else {
        return message.to_owned();
    };
    let Some((field, expected)) = rest.split_once('`') else {
        return message.to_owned();
    };
    let nearest = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .min_by_key(|k| strsim::levenshtein(field, k))
        .filter(|k| strsim::levenshtein(field, k) <= 3);
    match nearest {
        Some(k) => format!("{message} (did you mean `{k}`?)"),
        None => message.to_owned(),
    }
}

/// The built-in data checks.
pub(crate) fn builtin() -> Vec<CheckDef> {
    BUILTIN
        .iter()
        .flat_map(|(path, text)| parse(path, text).unwrap_or_else(|e| panic!("built-in pack: {e}")))
        .map(def)
        .collect()
}

/// The checks of every `*.yaml` file in `dir`.
pub fn load_dir(dir: &Path) -> Result<Vec<CheckDef>, PackError> {
    let io = |source| PackError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    let mut defs = Vec::new();
    for file in files {
        let shown = file.display().to_string();
        let text = std::fs::read_to_string(&file).map_err(|source| PackError::Io {
            path: shown.clone(),
            source,
        })?;
        defs.extend(parse(&shown, &text)?.into_iter().map(def));
    }
    Ok(defs)
}

fn def(check: DataCheck) -> CheckDef {
    CheckDef {
        id: check.id.clone(),
        area: check.area,
        severity: check.severity,
        reference: check.reference.clone(),
        summary: check.summary.clone(),
        needs: match check.needs {
            NeedsSpec::Nothing => Needs::Nothing,
            NeedsSpec::Cattackle => Needs::Cattackle,
            NeedsSpec::Stdio => Needs::Stdio,
            NeedsSpec::Http => Needs::Http,
            NeedsSpec::Websocket => Needs::WebSocket,
        },
        data: true,
        bound: 1,
        run: {
            let check = Arc::new(check);
            Arc::new(move |ctx| Box::pin(run(check.clone(), ctx)))
        },
    }
}

/// Runs a data check.
pub(crate) async fn run(check: Arc<DataCheck>, ctx: Ctx) -> Vec<Finding> {
    let era = match ctx.options.era {
        Era::Discover => EraSpec::Discover,
        _ => EraSpec::Initialize,
    };
    if !check.eras.is_empty() && !check.eras.contains(&era) {
        return vec![Finding::from(Verdict::Skip(format!(
            "does not apply to the {} era",
            if era == EraSpec::Discover {
                "2026"
            } else {
                "2025"
            }
        )))];
    }
    if !check.each_command {
        return vec![Finding::from(steps(&check, &ctx, None).await)];
    }
    let mut findings = Vec::new();
    for command in ctx.commands() {
        let verdict = steps(&check, &ctx, Some(&command)).await;
        findings.push(Finding {
            subject: Some(command),
            verdict,
        });
    }
    findings
}

async fn steps(check: &DataCheck, ctx: &Ctx, command: Option<&str>) -> Verdict {
    let started = match ctx.start().await {
        Ok(started) => started,
        Err(v) => return v,
    };
    let wire = started.wire;
    let fill = |v: &Value| fill(v, command);
    let mut verdict = None;
    for (n, step) in check.steps.iter().enumerate() {
        let what = step
            .fail
            .clone()
            .unwrap_or_else(|| format!("step {} did not hold", n + 1));
        if let Some(request) = &step.request {
            let params = request.params.as_ref().map_or_else(|| json!({}), fill);
            let method = fill(&json!(request.method))
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let frame = match wire.request(&method, params, ctx.bound()).await {
                Ok(frame) => frame,
                Err(e) => {
                    verdict = Some(ctx.no_answer(&wire, &format!("`{method}`"), e).await);
                    break;
                }
            };
            let patterns: Vec<Value> = step
                .expect
                .iter()
                .chain(&step.expect_one_of)
                .map(fill)
                .collect();
            if !patterns.is_empty() && !patterns.iter().any(|p| matches(p, &frame)) {
                verdict = Some(Verdict::violated(what, ctx.shown(&frame)));
                break;
            }
        } else if let Some(notify) = &step.notify {
            let params = notify.params.as_ref().map_or_else(|| json!({}), fill);
            if let Err(e) = wire.notify(&notify.method, params).await {
                verdict = Some(
                    ctx.no_answer(&wire, &format!("`{}`", notify.method), e)
                        .await,
                );
                break;
            }
        } else if let Some(raw) = &step.send_raw {
            if let Err(e) = wire.send(raw).await {
                verdict = Some(ctx.no_answer(&wire, "a raw frame", e).await);
                break;
            }
        } else if step.survives
            && let Err(v) = ctx.survives(&wire).await
        {
            verdict = Some(v);
            break;
        }
    }
    wire.close(ctx.grace()).await;
    verdict
        .unwrap_or_else(|| Verdict::Pass(check.pass.clone().unwrap_or_else(|| "holds".to_owned())))
}

/// `{{command}}` filled in every string of `value`.
fn fill(value: &Value, command: Option<&str>) -> Value {
    match value {
        Value::String(s) => Value::String(match command {
            Some(c) => s.replace("{{command}}", c),
            None => s.clone(),
        }),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, command)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill(v, command)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether `actual` matches `pattern` (see the module's documentation).
pub fn matches(pattern: &Value, actual: &Value) -> bool {
    match pattern {
        Value::String(s) if s.starts_with('$') => match s.as_str() {
            "$any" => true,
            "$string" => actual.is_string(),
            "$number" => actual.is_number(),
            "$integer" => actual.is_i64() || actual.is_u64(),
            "$boolean" => actual.is_boolean(),
            "$object" => actual.is_object(),
            "$array" => actual.is_array(),
            "$null" => actual.is_null(),
            _ => actual == pattern,
        },
        Value::Object(expected) => {
            let Some(object) = actual.as_object() else {
                return false;
            };
            expected.iter().all(|(key, p)| match object.get(key) {
                None => p == "$absent",
                Some(_) if p == "$absent" => false,
                Some(v) => matches(p, v),
            })
        }
        Value::Array(expected) => actual.as_array().is_some_and(|a| {
            a.len() == expected.len() && expected.iter().zip(a).all(|(p, v)| matches(p, v))
        }),
        _ => pattern == actual,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_by_subset_and_kind() {
        let frame =
            json!({ "jsonrpc": "2.0", "id": 1, "error": { "code": -32601, "message": "nope" } });
        assert!(matches(&json!({ "error": { "code": -32601 } }), &frame));
        assert!(matches(
            &json!({ "error": "$object", "result": "$absent" }),
            &frame
        ));
        assert!(!matches(&json!({ "result": "$any" }), &frame));
        assert!(!matches(&json!({ "error": { "code": -32600 } }), &frame));
        assert!(matches(
            &json!({ "id": "$integer", "error": { "message": "$string" } }),
            &frame
        ));
        assert!(matches(&json!([1, "$any"]), &json!([1, null])));
        assert!(!matches(&json!([1]), &json!([1, 2])));
    }

    #[test]
    fn the_builtin_pack_loads() {
        let ids: Vec<String> = builtin().into_iter().map(|c| c.id).collect();
        assert!(ids.contains(&"lifecycle.ping".to_owned()), "{ids:?}");
    }

    #[test]
    fn a_bad_pack_names_file_line_and_the_valid_keys() {
        let err = parse("team.yaml", "- id: a.b\n  area: tools\n  severity: must\n  reference: r\n  summary: s\n  stepz: []\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("team.yaml:6:3: "), "{err}");
        assert!(
            err.contains("unknown field `stepz`") && err.contains("did you mean `steps`?"),
            "{err}"
        );
        let err = parse(
            "team.yaml",
            "- id: a.b\n  area: tools\n  severity: must\n  reference: r\n  summary: s\n  steps: [{ survives: true, send_raw: x }]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("exactly one of"), "{err}");
    }
}
