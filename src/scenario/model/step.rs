//! Steps, and what each must produce; expectations on what the server received.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::super::Dur;
use super::flag;
use crate::manager::ErrorKind;

/// Deserializes a present key, `null` included, as `Some`: tells `error: null` from no `error`.
pub(crate) fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// One step: exactly one action key, and for calls an optional `expect`.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "StepSpec")]
pub struct Step {
    /// What happens.
    pub action: StepAction,
    /// What must come out.
    pub expect: Option<Expect>,
}

/// What a step does.
#[derive(Clone, Debug)]
pub enum StepAction {
    /// Call a command.
    Call(CallSpec),
    /// Run these steps at the same time.
    Concurrent(Vec<Step>),
    /// Run these steps one after the other (a branch of `concurrent` that waits, then calls).
    Sequence(Vec<Step>),
    /// Let time pass.
    Wait(Dur),
    /// Close the cattackle's session.
    CloseSession,
    /// Close every session.
    CloseAll,
    /// Kill the server; it stays down until `restart`.
    Kill,
    /// Kill the server's connections (a real server: kill and start again); new connections work.
    Restart,
    /// Stop a real server's process group (SIGSTOP): a hung process that still holds its pipes
    /// and sockets.
    Pause,
    /// Let a paused real server run on (SIGCONT).
    Resume,
    /// Give the manager a changed configuration.
    Reload(Reload),
}

/// The first action among `steps`, nested ones included, that `pick` accepts.
pub fn find_step<'a>(
    steps: &'a [Step],
    pick: &dyn Fn(&StepAction) -> bool,
) -> Option<&'a StepAction> {
    steps.iter().find_map(|step| match &step.action {
        action if pick(action) => Some(action),
        StepAction::Concurrent(inner) | StepAction::Sequence(inner) => find_step(inner, pick),
        _ => None,
    })
}

impl StepAction {
    /// The key that names the step.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Call(_) => "call",
            Self::Concurrent(_) => "concurrent",
            Self::Sequence(_) => "sequence",
            Self::Wait(_) => "wait",
            Self::CloseSession => "close_session",
            Self::CloseAll => "close_all",
            Self::Kill => "kill",
            Self::Restart => "restart",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Reload(_) => "reload",
        }
    }
}

/// A call, as the chat core makes it.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallSpec {
    /// The command (a tool name).
    pub command: String,
    /// `text` of the payload.
    #[serde(default)]
    pub text: Option<String>,
    /// Accumulated parameters (`accumulated_params`).
    #[serde(default)]
    pub params: Option<Vec<String>>,
    /// `extra.username`; default `undefined`.
    #[serde(default)]
    pub username: Option<String>,
    /// A whole payload object instead of `text`/`params`.
    #[serde(default)]
    pub payload: Option<Value>,
    /// Call the tool with exactly these arguments (no `extra`, no check against the declared
    /// commands); the outcome is the raw MCP result.
    #[serde(default)]
    pub raw: Option<serde_json::Map<String, Value>>,
}

/// `reload`: a changed configuration for the following steps.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reload {
    /// Merged over the scenario's `[cattackle]` table (after its own overrides).
    #[serde(default)]
    pub overrides: Option<Value>,
    /// The configuration from then on (every reload's overrides so far merged in), built when
    /// the file is loaded.
    #[serde(skip)]
    #[schemars(skip)]
    pub config: Option<Box<crate::config::CattackleConfig>>,
}

/// What a step must produce. Times are on the scenario's clock (exact on the virtual clock,
/// within `tolerance` on the real one).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The call succeeds; given fields must match.
    #[serde(default)]
    pub ok: Option<ExpectOk>,
    /// The call fails.
    #[serde(default)]
    pub error: Option<ExpectError>,
    /// How many attempts the call made.
    #[serde(default)]
    pub attempts: Option<u32>,
    /// When each attempt started, from the start of the step.
    #[serde(default)]
    pub schedule: Option<Vec<Dur>>,
    /// How long the step took.
    #[serde(default)]
    pub elapsed: Option<Dur>,
    /// How many sessions the manager has opened so far, in total.
    #[serde(default)]
    pub sessions: Option<u64>,
    /// Where the cattackle's circuit breaker stands after the step (`[cattackle.mcp.breaker]`).
    #[serde(default)]
    pub breaker: Option<BreakerName>,
    /// Metric values after the step, summed over their series: `cattackle_retries_total: 2`,
    /// or one series by its labels: `'cattackle_calls_total{outcome="ok"}': 3`.
    #[serde(default)]
    pub metrics: Option<std::collections::BTreeMap<String, f64>>,
    /// Allowed difference of times on the real clock. Default 250ms.
    #[serde(default)]
    pub tolerance: Option<Dur>,
}

/// A circuit breaker's state, as scenarios write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakerName {
    /// Calls go through.
    Closed,
    /// Calls are rejected at once.
    Open,
    /// One probe goes through.
    HalfOpen,
}

impl BreakerName {
    /// The spelling in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

/// A successful outcome. Absent fields are not checked.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectOk {
    /// `data` of the cattackle response (raw calls: the whole MCP result).
    #[serde(default, deserialize_with = "present")]
    pub data: Option<Value>,
    /// `error` of the cattackle response.
    #[serde(default, deserialize_with = "present")]
    pub error: Option<Value>,
    /// Whether the result had `isError: true`.
    #[serde(default)]
    pub is_error: Option<bool>,
}

/// A failed outcome.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectError {
    /// The error kind: `timed_out`, `transport_closed`, `exhausted`, `invalid_json`, …
    pub kind: KindName,
    /// A regular expression the message must match.
    #[serde(default)]
    pub message: Option<String>,
    /// The `fallback` text an unavailable cattackle's error carries.
    #[serde(default)]
    pub fallback: Option<String>,
    /// For `exhausted`, `deadline_exceeded` and `outcome_unknown`: the kind of the last
    /// attempt's error.
    #[serde(default)]
    pub last: Option<KindName>,
}

/// The name of an error kind ([`ErrorKind::as_str`]), checked when the file loads: a typo
/// such as `timed_ot` is an error with the nearest valid name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KindName(pub String);

impl KindName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for KindName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for KindName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        let names = ErrorKind::ALL.map(ErrorKind::as_str);
        if names.contains(&name.as_str()) {
            return Ok(Self(name));
        }
        let hint = crate::config::did_you_mean(&name, names)
            .map_or_else(String::new, |near| format!(", did you mean `{near}`?"));
        Err(serde::de::Error::custom(format!(
            "unknown error kind `{name}`{hint} (one of: {})",
            names.join(", ")
        )))
    }
}

impl JsonSchema for KindName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ErrorKind".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names = ErrorKind::ALL.map(ErrorKind::as_str);
        schemars::json_schema!({ "type": "string", "enum": names })
    }
}

/// What the server must have received.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerExpectation {
    /// The JSON-RPC method. Default `tools/call`, as for faults.
    #[serde(default)]
    pub method: Option<String>,
    /// The tool name (`tools/call`).
    #[serde(default)]
    pub tool: Option<String>,
    /// Arguments the request must contain (a partial match).
    #[serde(default)]
    pub arguments: Option<Value>,
    /// Exactly this many. Without `times`, `min` or `max`: at least one.
    #[serde(default)]
    pub times: Option<u32>,
    /// At least this many.
    #[serde(default)]
    pub min: Option<u32>,
    /// At most this many.
    #[serde(default)]
    pub max: Option<u32>,
}

/// A step, as written.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepSpec {
    /// Call a command.
    #[serde(default)]
    call: Option<CallSpec>,
    /// Run these steps at the same time.
    #[serde(default)]
    concurrent: Option<Vec<Step>>,
    /// Run these steps one after the other (a branch of `concurrent` that waits, then calls).
    #[serde(default)]
    sequence: Option<Vec<Step>>,
    /// Let time pass.
    #[serde(default)]
    wait: Option<Dur>,
    /// `true`: close the cattackle's session.
    #[serde(default)]
    close_session: Option<bool>,
    /// `true`: close every session.
    #[serde(default)]
    close_all: Option<bool>,
    /// `true`: kill the server; it stays down until `restart`.
    #[serde(default)]
    kill: Option<bool>,
    /// `true`: kill the server's connections, and accept new ones.
    #[serde(default)]
    restart: Option<bool>,
    /// `true`: stop the real server's process group (SIGSTOP) until `resume`.
    #[serde(default)]
    pause: Option<bool>,
    /// `true`: let a paused real server run on (SIGCONT).
    #[serde(default)]
    resume: Option<bool>,
    /// A changed configuration.
    #[serde(default)]
    reload: Option<Reload>,
    /// What must come out.
    #[serde(default)]
    expect: Option<Expect>,
}

impl TryFrom<StepSpec> for Step {
    type Error = String;

    fn try_from(spec: StepSpec) -> Result<Self, String> {
        let action = super::required_action(
            "step",
            vec![
                ("call", spec.call.map(StepAction::Call)),
                ("concurrent", spec.concurrent.map(StepAction::Concurrent)),
                ("sequence", spec.sequence.map(StepAction::Sequence)),
                ("wait", spec.wait.map(StepAction::Wait)),
                (
                    "close_session",
                    flag(spec.close_session, StepAction::CloseSession),
                ),
                ("close_all", flag(spec.close_all, StepAction::CloseAll)),
                ("kill", flag(spec.kill, StepAction::Kill)),
                ("restart", flag(spec.restart, StepAction::Restart)),
                ("pause", flag(spec.pause, StepAction::Pause)),
                ("resume", flag(spec.resume, StepAction::Resume)),
                ("reload", spec.reload.map(StepAction::Reload)),
            ],
        )?;
        if let Some(expect) = &spec.expect {
            let call_only = expect.ok.is_some()
                || expect.error.is_some()
                || expect.attempts.is_some()
                || expect.schedule.is_some();
            if call_only && !matches!(action, StepAction::Call(_)) {
                return Err(format!(
                    "`expect.ok`, `error`, `attempts` and `schedule` belong to a `call`, not to `{}`",
                    action.key()
                ));
            }
            if expect.ok.is_some() && expect.error.is_some() {
                return Err("`expect` has `ok` or `error`, not both".to_owned());
            }
        }
        if let StepAction::Call(call) = &action
            && call.raw.is_some()
            && (call.text.is_some() || call.params.is_some() || call.payload.is_some())
        {
            return Err("a `raw` call takes its arguments from `raw` only".to_owned());
        }
        Ok(Self {
            action,
            expect: spec.expect,
        })
    }
}

super::schema_of_spec!(Step, StepSpec);
