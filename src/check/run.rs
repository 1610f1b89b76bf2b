//! Runs the pack against a target: a pre-flight handshake (an unreachable target is reported
//! as such, not as forty failures), then every selected check at once, `jobs` at a time, each
//! bounded by the check timeout.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::catalog::Pack;
use super::ctx::{Ctx, Options};
use super::def::CheckDef;
use super::model::{CheckResult, Finding, Severity, Status, SuiteReport, Verdict};
use super::target::Target;

/// Which checks run: `only` (empty: all) minus `skip`. An entry is an id, or an area prefix
/// (`stdio`, `contract`).
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Run only these.
    pub only: Vec<String>,
    /// Never these.
    pub skip: Vec<String>,
    /// Warnings fail the run too.
    pub strict: bool,
}

impl Selection {
    fn matches(pattern: &str, id: &str) -> bool {
        id == pattern
            || id
                .strip_prefix(pattern)
                .is_some_and(|rest| rest.starts_with('.'))
    }

    /// Whether the check runs.
    pub fn runs(&self, id: &str) -> bool {
        (self.only.is_empty() || self.only.iter().any(|p| Self::matches(p, id)))
            && !self.skip.iter().any(|p| Self::matches(p, id))
    }

    /// The entries that name no check of `pack`, each with the nearest id.
    pub fn unknown(&self, pack: &Pack) -> Vec<(String, Option<String>)> {
        let ids = pack.ids();
        self.only
            .iter()
            .chain(&self.skip)
            .filter(|p| !ids.iter().any(|id| Self::matches(p, id)))
            .map(|p| {
                let nearest = ids
                    .iter()
                    .copied()
                    .min_by(|a, b| strsim::levenshtein(p, a).cmp(&strsim::levenshtein(p, b)))
                    .map(str::to_owned);
                (p.clone(), nearest)
            })
            .collect()
    }
}

/// Runs the selected checks of `pack` against `target`.
pub async fn run_suite(
    target: Target,
    options: Options,
    selection: &Selection,
    pack: &Pack,
) -> SuiteReport {
    let transport = target.config.mcp.transport.kind().as_str().to_owned();
    let ctx = Ctx {
        target: Arc::new(target),
        options: Arc::new(options),
    };
    let name = ctx.target.name().to_owned();
    let cattackle = ctx.target.cattackle;
    let checks: Vec<CheckDef> = pack
        .checks
        .iter()
        .filter(|c| selection.runs(&c.id))
        .cloned()
        .collect();
    // Pre-flight: can it be started at all, and which version does it speak?
    let preflight = tokio::time::timeout(ctx.options.check_timeout, ctx.start()).await;
    let (reachable, version, why) = match preflight {
        Ok(Ok(started)) => {
            let version = match ctx.options.era {
                super::ctx::Era::Discover => Some("2026-07-28".to_owned()),
                _ => started
                    .result
                    .get("protocolVersion")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned),
            };
            started.wire.close(ctx.grace()).await;
            (true, version, None)
        }
        Ok(Err(verdict)) => (false, None, Some(verdict)),
        Err(_) => (
            false,
            None,
            Some(Verdict::violated(
                "the handshake did not finish within the check timeout",
                format!("{:?}", ctx.options.check_timeout),
            )),
        ),
    };
    let spec_version = version
        .clone()
        .unwrap_or_else(|| ctx.options.era.offered().to_owned());
    let results = if let Some(why) = why {
        unreachable(&checks, why, &spec_version)
    } else {
        run_checks(&ctx, &checks, &spec_version, selection.strict).await
    };
    SuiteReport {
        name,
        transport,
        cattackle,
        protocol_version: version,
        reachable,
        results,
    }
}

/// Every check skipped, the first one failed with why the target could not be reached.
fn unreachable(checks: &[CheckDef], why: Verdict, version: &str) -> Vec<CheckResult> {
    checks
        .iter()
        .enumerate()
        .map(|(i, check)| {
            let verdict = if i == 0 {
                why.clone()
            } else {
                Verdict::Skip("the server could not be started or reached".to_owned())
            };
            result(check, Finding::from(verdict), 0, version, false)
        })
        .collect()
}

async fn run_checks(
    ctx: &Ctx,
    checks: &[CheckDef],
    version: &str,
    strict: bool,
) -> Vec<CheckResult> {
    let permits = Arc::new(Semaphore::new(ctx.options.jobs.max(1)));
    let mut tasks = Vec::new();
    for check in checks {
        let check = check.clone();
        if let Some(why) = check.needs.unmet(&ctx.target) {
            tasks.push(tokio::spawn(async move {
                (vec![Finding::from(Verdict::Skip(why.to_owned()))], 0)
            }));
            continue;
        }
        let ctx = ctx.clone();
        let permits = permits.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await;
            let began = Instant::now();
            let bound = ctx.options.check_timeout.saturating_mul(check.bound);
            let findings = match tokio::time::timeout(bound, check.start(ctx)).await {
                Ok(findings) => findings,
                Err(_) => vec![Finding::from(Verdict::violated(
                    format!("the check did not finish within {}s", bound.as_secs_f64()),
                    "a request went unanswered past every bound: the server is wedged",
                ))],
            };
            (findings, began.elapsed().as_millis() as u64)
        }));
    }
    let mut results = Vec::new();
    for (check, task) in checks.iter().zip(tasks) {
        let (findings, took) = match task.await {
            Ok(done) => done,
            Err(e) => (
                vec![Finding::from(Verdict::Broken(format!(
                    "the check panicked: {e}"
                )))],
                0,
            ),
        };
        let findings = if findings.is_empty() {
            vec![Finding::from(Verdict::Skip("nothing to check".to_owned()))]
        } else {
            findings
        };
        for finding in findings {
            results.push(result(check, finding, took, version, strict));
        }
    }
    results
}

fn result(
    check: &CheckDef,
    finding: Finding,
    took: u64,
    version: &str,
    strict: bool,
) -> CheckResult {
    let (status, message, evidence) = match finding.verdict {
        Verdict::Pass(m) => (Status::Pass, m, Vec::new()),
        Verdict::Violated { message, evidence } => {
            let status = match check.severity {
                Severity::Must => Status::Fail,
                Severity::Should if strict => Status::Fail,
                Severity::Should => Status::Warn,
                Severity::Info => Status::Info,
            };
            (status, message, evidence)
        }
        Verdict::Skip(m) => (Status::Skip, m, Vec::new()),
        Verdict::Info(m) => (Status::Info, m, Vec::new()),
        Verdict::Broken(m) => (
            Status::Error,
            format!("harness error (not the server's fault): {m}"),
            Vec::new(),
        ),
    };
    CheckResult {
        id: check.id.clone(),
        area: check.area,
        severity: check.severity,
        subject: finding.subject,
        status,
        message,
        evidence,
        reference: check.reference_for(version),
        duration_ms: took,
        baselined: None,
    }
}
