//! Running one trial: a scenario against one target, through the full manager.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::env::Env;
use super::expect;
use super::outcome::{Failure, Outcome};
use super::transcript::{self, StepRecord};
use crate::config::CattackleConfig;
use crate::journal::{Journal, Mark, MarkKind, Redactor, What};
use crate::manager::{CallOptions, ManagerEvent, McpClientManager, Payload};
use crate::scenario::model::{CallSpec, Clock, Step, StepAction};
use crate::scenario::{Dur, ScenarioFile, TrialTarget};
use crate::util::{block_on_caught, lock};

/// How trials run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides every scenario's seed.
    pub seed: Option<u64>,
    /// Where bare program names are also looked for (after `PATH`): the directory of
    /// `cattackle`, so `echo-cattackle` built beside it is found.
    pub program_dirs: Vec<PathBuf>,
    /// The `cattackle` program, which serves `stdio-process` mocks (`cattackle mock-server`).
    pub mock_program: Option<PathBuf>,
    /// A limit on each trial's wall time: a trial still running then is stopped (its sessions
    /// and servers dropped, so killed) and fails with that reason. `None`: no limit.
    pub trial_timeout: Option<Duration>,
}

/// What a trial did.
#[derive(Clone, Debug)]
pub struct Report {
    /// `path/of/scenario@target`.
    pub name: String,
    /// The scenario's id (its path under the root).
    pub id: String,
    /// The target.
    pub target: TrialTarget,
    /// The clock it ran on.
    pub clock: Clock,
    /// The seed of its faults and jitter.
    pub seed: u64,
    /// Expectations that failed; empty when it passed.
    pub failures: Vec<Failure>,
    /// The transcript, as YAML: what the snapshot holds.
    pub transcript: String,
    /// The manager's metrics at the end of the trial, as OpenMetrics text.
    pub metrics: String,
    /// Time covered on the scenario's clock.
    pub clock_time: Duration,
    /// Wall time taken.
    pub wall_time: Duration,
    /// The run as a timeline (steps, attempts, sessions, faults, messages), for the HTML report.
    pub timeline: Vec<Mark>,
    /// Why it did not run (a file it requires is missing); it then has no failures.
    pub skipped: Option<String>,
}

impl Report {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The clock a trial uses: the scenario's, else virtual when its server is in-process.
pub fn clock_of(file: &ScenarioFile, target: TrialTarget) -> Clock {
    file.scenario.clock.unwrap_or(if target.in_process() {
        Clock::Virtual
    } else {
        Clock::Real
    })
}

/// Runs `file` against `target` on its own runtime (paused for a virtual clock).
pub fn run(file: &ScenarioFile, target: TrialTarget, options: &RunOptions) -> Report {
    let clock = clock_of(file, target);
    let seed = options.seed.or(file.scenario.seed).unwrap_or(0);
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all();
    if clock == Clock::Virtual {
        builder.start_paused(true);
    }
    let wall = std::time::Instant::now();
    let name = file.trial_name(target);
    let mut report = Report {
        name,
        id: file.id.clone(),
        target,
        clock,
        seed,
        failures: Vec::new(),
        transcript: String::new(),
        metrics: String::new(),
        clock_time: Duration::ZERO,
        wall_time: Duration::ZERO,
        timeline: Vec::new(),
        skipped: file.missing_requirement(target),
    };
    if report.skipped.is_some() {
        return report;
    }
    let (expired, _watchdog) = watchdog(options.trial_timeout);
    let trial = async {
        tokio::select! {
            ran = run_async(file, target, options, clock, seed) => Some(ran),
            _ = expired => None,
        }
    };
    let panics = match block_on_caught(builder, trial) {
        Ok((ran, panics)) => {
            match ran {
                // The trial's own task panicked: it ended there, its sessions and servers
                // dropped with the runtime; the panic is its failure.
                None => {}
                Some(Some((failures, transcript, clock_time, metrics, timeline))) => {
                    report.timeline = timeline;
                    report.failures = failures;
                    report.transcript = transcript;
                    report.clock_time = clock_time;
                    report.metrics = metrics;
                }
                Some(None) => report.failures.push(Failure {
                    at: "trial".to_owned(),
                    message: format!(
                        "did not finish within {} of wall time (--trial-timeout): stopped, its sessions and servers killed",
                        Dur(options.trial_timeout.unwrap_or_default())
                    ),
                }),
            }
            panics
        }
        Err(e) => {
            report.failures.push(Failure {
                at: "setup".to_owned(),
                message: format!("cannot build a runtime: {e}"),
            });
            Vec::new()
        }
    };
    // A panic anywhere in the trial (in a mock's fault, the relay, a step) fails it.
    report
        .failures
        .extend(panics.into_iter().map(|panic| Failure {
            at: "trial".to_owned(),
            message: format!("panicked: {panic}"),
        }));
    report.wall_time = wall.elapsed();
    report
}

/// A wall-clock limit, kept by a thread of its own: the receiver resolves once `limit` of real
/// time has passed (never without a limit). The trial's clock may be virtual, so no tokio timer
/// can keep it. Dropping the guard ends the thread at once.
fn watchdog(
    limit: Option<Duration>,
) -> (
    impl std::future::Future<Output = ()>,
    Option<std::sync::mpsc::Sender<()>>,
) {
    let (expired_tx, expired_rx) = tokio::sync::oneshot::channel::<()>();
    let guard = limit.map(|limit| {
        let (guard, finished) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(limit) {
                let _ = expired_tx.send(());
            }
        });
        guard
    });
    let expired = async move {
        if expired_rx.await.is_err() {
            // No limit: never.
            std::future::pending::<()>().await;
        }
    };
    (expired, guard)
}

/// What the manager's observer saw of one call.
struct CallTrace {
    label: String,
    start: Instant,
    attempts: Vec<Duration>,
}

/// The calls in flight, by their number in the manager's events.
#[derive(Default)]
struct Calls(Mutex<HashMap<u64, CallTrace>>);

struct Run<'a> {
    file: &'a ScenarioFile,
    options: &'a RunOptions,
    manager: McpClientManager,
    config: Mutex<CattackleConfig>,
    env: tokio::sync::Mutex<Env>,
    journal: Arc<Journal>,
    calls: Arc<Calls>,
    clock: Clock,
    failures: Mutex<Vec<Failure>>,
    records: Mutex<Vec<StepRecord>>,
}

async fn run_async(
    file: &ScenarioFile,
    target: TrialTarget,
    options: &RunOptions,
    clock: Clock,
    seed: u64,
) -> (Vec<Failure>, String, Duration, String, Vec<Mark>) {
    let mut redactor = Redactor::default();
    redactor.secret(secrets(&file.config));
    redactor.path(&std::env::temp_dir());
    let journal = Arc::new(Journal::new(clock == Clock::Virtual, redactor));
    let setup_failed = |message: String| {
        let failures = vec![Failure {
            at: "setup".to_owned(),
            message,
        }];
        (
            failures,
            String::new(),
            Duration::ZERO,
            String::new(),
            Vec::new(),
        )
    };
    let (env, connector) = match Env::start(file, target, options, seed, journal.clone()).await {
        Ok(started) => started,
        Err(e) => return setup_failed(e.to_string()),
    };
    let config = env.aim(file.config.clone());
    let calls = Arc::new(Calls::default());
    let (observer_journal, observer_calls) = (journal.clone(), calls.clone());
    let manager = McpClientManager::with_connector(connector).with_observer(Arc::new(
        move |event: &ManagerEvent| observe(&observer_journal, &observer_calls, event),
    ));
    let run = Run {
        file,
        options,
        manager,
        config: Mutex::new(config),
        env: tokio::sync::Mutex::new(env),
        journal: journal.clone(),
        calls,
        clock,
        failures: Mutex::new(Vec::new()),
        records: Mutex::new(Vec::new()),
    };
    for (i, step) in file.scenario.steps.iter().enumerate() {
        run.step(step, format!("steps[{i}]")).await;
    }
    let grace = lock(&run.config).mcp.shutdown_grace;
    run.manager.close_all_sessions(grace).await;
    let metrics = run.manager.metrics_text();
    let clock_time = journal.elapsed();
    let Run {
        env,
        failures,
        records,
        ..
    } = run;
    env.into_inner().stop(&journal).await;
    let mut failures = crate::util::into_inner(failures);
    let received = journal.received_requests();
    failures.extend(expect::server(&file.scenario.server_expect, &received));
    let records = crate::util::into_inner(records);
    let text = transcript::render(file, target, clock, seed, &records, &journal);
    (failures, text, clock_time, metrics, journal.marks())
}

/// Every secret value of a configuration (env values, headers).
fn secrets(config: &CattackleConfig) -> Vec<String> {
    use crate::config::TransportConfig;
    match &config.mcp.transport {
        TransportConfig::Stdio(s) => s.env.values().cloned().collect(),
        TransportConfig::WebSocket { headers, .. } | TransportConfig::Http { headers, .. } => {
            headers.values().cloned().collect()
        }
    }
}

fn observe(journal: &Journal, calls: &Calls, event: &ManagerEvent) {
    let label = |call: &u64| {
        lock(&calls.0)
            .get(call)
            .map(|t| t.label.clone())
            .unwrap_or_default()
    };
    let text = match event {
        ManagerEvent::AttemptStarted { call, attempt, .. } => {
            let mut calls = lock(&calls.0);
            let label = match calls.get_mut(call) {
                Some(trace) => {
                    trace.attempts.push(trace.start.elapsed());
                    trace.label.clone()
                }
                None => String::new(),
            };
            format!("{label} attempt {attempt}")
        }
        ManagerEvent::AttemptFailed {
            call,
            attempt,
            kind,
            message,
            retry_in,
            ..
        } => {
            let label = label(call);
            let next = retry_in.map_or(String::new(), |d| format!("; retry in {}", Dur(d)));
            format!("{label} attempt {attempt} failed: {kind}: {message}{next}")
        }
        ManagerEvent::CallRejected {
            call,
            kind,
            retry_after,
            ..
        } => {
            let label = label(call);
            let next = retry_after.map_or(String::new(), |d| format!("; retry after {}", Dur(d)));
            format!("{label} rejected: {kind}{next}")
        }
        ManagerEvent::BreakerChanged {
            from,
            to,
            reason,
            retry_in,
            ..
        } => {
            let next = retry_in.map_or(String::new(), |d| format!("; probe in {}", Dur(d)));
            format!(
                "breaker {} -> {} ({reason}{next})",
                from.as_str(),
                to.as_str()
            )
        }
        ManagerEvent::KeepAlive { session, ok, .. } => format!(
            "session {session} keep-alive {}",
            if *ok { "answered" } else { "missed" }
        ),
        ManagerEvent::SessionOpened {
            session, protocol, ..
        } => format!(
            "session {session} opened ({})",
            protocol.as_deref().unwrap_or("unknown protocol")
        ),
        ManagerEvent::SessionRetired {
            session,
            reason,
            in_flight,
            ..
        } => format!("session {session} retired ({reason}; {in_flight} call(s) still in flight)"),
        ManagerEvent::SessionClosed {
            session, reason, ..
        } => format!("session {session} closed ({reason})"),
        ManagerEvent::ServerRequestsDropped {
            session, dropped, ..
        } => format!(
            "session {session} dropped {dropped} request(s) of the server's own past the bound"
        ),
    };
    journal.record(What::Client(text));
    if let Some(mark) = mark_of(journal, &label, event) {
        journal.mark(mark);
    }
}

/// The timeline's mark of a manager event (`label` names a call's step).
fn mark_of(
    journal: &Journal,
    label: &dyn Fn(&u64) -> String,
    event: &ManagerEvent,
) -> Option<MarkKind> {
    let redact = |text: &str| journal.redactor().apply(text);
    Some(match event {
        ManagerEvent::AttemptStarted { call, attempt, .. } => MarkKind::Attempt {
            step: label(call),
            attempt: *attempt,
        },
        ManagerEvent::AttemptFailed {
            call,
            attempt,
            kind,
            message,
            retry_in,
            ..
        } => MarkKind::AttemptFailed {
            step: label(call),
            attempt: *attempt,
            error: kind.as_str().to_owned(),
            message: redact(message),
            retry_in_us: retry_in.map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
        },
        ManagerEvent::CallRejected { call, kind, .. } => MarkKind::Rejected {
            step: label(call),
            error: kind.as_str().to_owned(),
        },
        ManagerEvent::BreakerChanged { from, to, .. } => MarkKind::Breaker {
            from: from.as_str().to_owned(),
            to: to.as_str().to_owned(),
        },
        ManagerEvent::KeepAlive { session, ok, .. } => MarkKind::Session {
            session: *session,
            event: "keep-alive".to_owned(),
            reason: if *ok { "answered" } else { "missed" }.to_owned(),
        },
        ManagerEvent::SessionOpened {
            session, protocol, ..
        } => MarkKind::Session {
            session: *session,
            event: "opened".to_owned(),
            reason: protocol.clone().unwrap_or_default(),
        },
        ManagerEvent::SessionRetired {
            session, reason, ..
        } => MarkKind::Session {
            session: *session,
            event: "retired".to_owned(),
            reason: redact(reason),
        },
        ManagerEvent::SessionClosed {
            session, reason, ..
        } => MarkKind::Session {
            session: *session,
            event: "closed".to_owned(),
            reason: redact(reason),
        },
        ManagerEvent::ServerRequestsDropped {
            session, dropped, ..
        } => MarkKind::Session {
            session: *session,
            event: "dropped server requests".to_owned(),
            reason: dropped.to_string(),
        },
    })
}

impl Run<'_> {
    fn step<'s>(&'s self, step: &'s Step, at: String) -> crate::transport::BoxFuture<'s, ()> {
        Box::pin(async move {
            let start = Instant::now();
            self.journal
                .record(What::Step(format!("{at} {}", describe(&step.action))));
            self.journal.mark(MarkKind::Step {
                step: at.clone(),
                action: self.journal.redactor().apply(&describe(&step.action)),
            });
            let mut record = StepRecord {
                at: at.clone(),
                action: describe(&step.action),
                outcome: None,
                attempts: Vec::new(),
            };
            let mut outcome = None;
            match &step.action {
                StepAction::Call(call) => {
                    let (o, attempts) = self.call(call, &at).await;
                    record.outcome = Some(o.clone());
                    record.attempts = attempts.clone();
                    outcome = Some((o, attempts));
                }
                StepAction::Concurrent(steps) => {
                    let runs = steps
                        .iter()
                        .enumerate()
                        .map(|(i, s)| self.step(s, format!("{at}.concurrent[{i}]")));
                    futures::future::join_all(runs).await;
                }
                StepAction::Sequence(steps) => {
                    for (i, s) in steps.iter().enumerate() {
                        self.step(s, format!("{at}.sequence[{i}]")).await;
                    }
                }
                StepAction::Wait(d) => tokio::time::sleep(d.0).await,
                StepAction::CloseSession => {
                    let (name, grace) = self.name_and_grace();
                    self.manager.close_session(&name, grace).await;
                }
                StepAction::CloseAll => {
                    let (_, grace) = self.name_and_grace();
                    self.manager.close_all_sessions(grace).await;
                }
                StepAction::Kill => {
                    let pid = self.manager.session_pid(&self.name_and_grace().0).await;
                    self.env.lock().await.kill(pid, &self.journal).await;
                }
                StepAction::Pause | StepAction::Resume => {
                    let pid = self.manager.session_pid(&self.name_and_grace().0).await;
                    let pause = matches!(step.action, StepAction::Pause);
                    let signalled = self.env.lock().await.pause(pause, pid, &self.journal);
                    if let Err(e) = signalled {
                        self.fail(&at, e.to_string());
                    }
                }
                StepAction::Restart => {
                    let pid = self.manager.session_pid(&self.name_and_grace().0).await;
                    let result = self
                        .env
                        .lock()
                        .await
                        .restart(self.file, pid, self.options, &self.journal)
                        .await;
                    if let Err(e) = result {
                        self.fail(&at, e.to_string());
                    }
                }
                StepAction::Reload(reload) => match &reload.config {
                    Some(config) => {
                        let aimed = self.env.lock().await.aim((**config).clone());
                        *lock(&self.config) = aimed;
                    }
                    None => self.fail(&at, "reload: its configuration was not built".to_owned()),
                },
            }
            let elapsed = start.elapsed();
            if let Some(expect) = &step.expect {
                let after = expect::After {
                    sessions: self.manager.sessions_opened(),
                    breaker: self
                        .manager
                        .breaker_state(&self.name_and_grace().0)
                        .map(|b| b.as_str()),
                    metrics: if expect.metrics.is_some() {
                        self.manager.metrics_text()
                    } else {
                        String::new()
                    },
                };
                let real = self.clock == Clock::Real;
                for message in expect::step(expect, outcome.as_ref(), elapsed, &after, real) {
                    self.fail(&at, message);
                }
            }
            let ok = !lock(&self.failures).iter().any(|f| f.at == at);
            self.journal.mark(MarkKind::StepEnd {
                step: at.clone(),
                outcome: record
                    .outcome
                    .as_ref()
                    .map(|o| self.journal.redactor().apply(&o.to_string())),
                ok,
            });
            lock(&self.records).push(record);
        })
    }

    fn fail(&self, at: &str, message: String) {
        let message = self.journal.redactor().apply(&message);
        lock(&self.failures).push(Failure {
            at: at.to_owned(),
            message,
        });
    }

    fn name_and_grace(&self) -> (String, Duration) {
        let config = lock(&self.config);
        (config.name.clone(), config.mcp.shutdown_grace)
    }

    async fn call(&self, spec: &CallSpec, at: &str) -> (Outcome, Vec<Duration>) {
        let config = lock(&self.config).clone();
        let call = self.manager.reserve_call();
        let trace = CallTrace {
            label: at.to_owned(),
            start: Instant::now(),
            attempts: Vec::new(),
        };
        lock(&self.calls.0).insert(call, trace);
        let options = CallOptions::default().with_call(call);
        let outcome = match &spec.raw {
            Some(arguments) => {
                let result = self
                    .manager
                    .call_raw_with(&config, &spec.command, arguments.clone(), options)
                    .await;
                match result {
                    Ok(result) => Outcome::Raw(serde_json::to_value(result).unwrap_or_default()),
                    Err(e) => Outcome::from_error(&e),
                }
            }
            None => match payload(spec) {
                Err(e) => Outcome::Invalid(e),
                Ok(payload) => {
                    let result = self
                        .manager
                        .call_with(&config, &spec.command, payload, options)
                        .await;
                    match result {
                        Ok(response) => Outcome::Ok(response),
                        Err(e) => Outcome::from_error(&e),
                    }
                }
            },
        };
        let outcome = outcome.redacted(self.journal.redactor());
        self.journal
            .record(What::Step(format!("{at} -> {outcome}")));
        let attempts = lock(&self.calls.0)
            .remove(&call)
            .map(|t| t.attempts)
            .unwrap_or_default();
        (outcome, attempts)
    }
}

fn payload(spec: &CallSpec) -> Result<Payload, String> {
    let mut payload = match &spec.payload {
        Some(value) => Payload::from_value(value.clone()).map_err(|e| e.to_string())?,
        None => Payload::text(spec.text.clone().unwrap_or_default()),
    };
    if let Some(params) = &spec.params {
        payload = payload.with_accumulated_params(params.iter().cloned());
    }
    if let Some(user) = &spec.username {
        payload = payload.with_username(user.clone());
    }
    Ok(payload)
}

fn describe(action: &StepAction) -> String {
    match action {
        StepAction::Call(c) => {
            let mut s = format!("call {}", c.command);
            if let Some(t) = &c.text {
                s.push_str(&format!(" {t:?}"));
            }
            s
        }
        StepAction::Concurrent(steps) => format!("concurrent ({} steps)", steps.len()),
        StepAction::Sequence(steps) => format!("sequence ({} steps)", steps.len()),
        StepAction::Wait(d) => format!("wait {d}"),
        other => other.key().to_owned(),
    }
}
