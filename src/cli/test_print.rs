//! What `cattackle test` prints: a line per trial and a summary (human), one JSON document, or
//! a JSON line per event.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anstyle::{AnsiColor, Style};

use cattackle_harness::scenario::Dur;
use cattackle_harness::trial::record::reproduce;
use cattackle_harness::trial::snapshot::SnapshotCheck;
use cattackle_harness::trial::{TestEvent, TestReport, TrialRecord, TrialResult};

/// `--seeds A..B` (B excluded) or `A..=B`.
#[derive(Clone, Debug)]
pub(crate) struct Seeds {
    from: u64,
    to: u64,
}

impl Seeds {
    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.from..self.to
    }
}

impl FromStr for Seeds {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}`: expected A..B or A..=B, with A < B (such as 0..50)");
        let (from, to, inclusive) = match text.split_once("..=") {
            Some((a, b)) => (a, b, true),
            None => {
                let (a, b) = text.split_once("..").ok_or_else(bad)?;
                (a, b, false)
            }
        };
        let from: u64 = from.trim().parse().map_err(|_| bad())?;
        let to: u64 = to.trim().parse().map_err(|_| bad())?;
        let to = if inclusive {
            to.checked_add(1).ok_or_else(bad)?
        } else {
            to
        };
        if from >= to || to - from > 100_000 {
            return Err(bad());
        }
        Ok(Self { from, to })
    }
}

/// Prints as `--format` says.
pub(crate) struct Printer {
    format: Format,
    metrics: bool,
    total: usize,
    repeated: bool,
    /// On a terminal: a progress bar on stderr with counts and the slowest running trial.
    bar: Option<indicatif::ProgressBar>,
    /// The trials running, since when (for the bar's "slowest").
    running: Mutex<HashMap<String, Instant>>,
}

/// A line on stdout, coloured as `--color` says; a closed pipe (`| head`) ends the output
/// quietly instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(anstream::stdout(), $($arg)*);
    }};
}

const OK: Style = AnsiColor::Green.on_default();
const FAILED: Style = AnsiColor::Red.on_default().bold();
const SKIPPED: Style = AnsiColor::Yellow.on_default();
const ADDED: Style = AnsiColor::Green.on_default();
const REMOVED: Style = AnsiColor::Red.on_default();

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Human,
    Json,
    JsonLines,
}

impl Printer {
    pub(crate) fn new(format: &str, metrics: bool, total: usize, repeated: bool) -> Self {
        let format = match format {
            "json" => Format::Json,
            "json-lines" => Format::JsonLines,
            _ => Format::Human,
        };
        let bar = (format == Format::Human && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            format,
            metrics,
            total,
            repeated,
            bar,
            running: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn begin(&self, runs: usize) {
        if self.format == Format::Human {
            out!("running {runs} trial{}", if runs == 1 { "" } else { "s" });
        }
    }

    /// A trial run started.
    pub(crate) fn started(&self, name: String, run: u32) {
        if self.bar.is_some() {
            lock(&self.running).insert(name.clone(), Instant::now());
            self.slowest();
        }
        self.event(&TestEvent::Started { name, run });
    }

    fn slowest(&self) {
        if let Some(bar) = &self.bar {
            let running = lock(&self.running);
            if let Some((name, since)) = running.iter().min_by_key(|(_, since)| **since) {
                bar.set_message(format!(
                    "slowest running: {name} ({}s)",
                    since.elapsed().as_secs()
                ));
            }
        }
    }

    /// Prints a line above the bar, if there is one.
    fn say(&self, print: impl FnOnce()) {
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// A JSON line, in `json-lines` format.
    pub(crate) fn event(&self, event: &TestEvent) {
        if self.format == Format::JsonLines {
            out!("{}", serde_json::to_string(event).unwrap_or_default());
        }
    }

    pub(crate) fn finished(&self, result: &TrialResult, run: u32, done: usize) {
        match self.format {
            Format::Human => {
                if let Some(bar) = &self.bar {
                    lock(&self.running).remove(&result.report.name);
                    bar.inc(1);
                    self.slowest();
                }
                self.say(|| {
                    self.line(result, run, done);
                    if self.metrics {
                        for line in result
                            .report
                            .metrics
                            .lines()
                            .filter(|l| !l.starts_with('#'))
                        {
                            out!("        {line}");
                        }
                    }
                });
            }
            Format::JsonLines => self.event(&TestEvent::Finished(TrialRecord::of(result, run))),
            Format::Json => {}
        }
    }

    fn line(&self, result: &TrialResult, run: u32, done: usize) {
        let r = &result.report;
        let status = if r.skipped.is_some() {
            format!("{SKIPPED}skip  {SKIPPED:#}")
        } else if r.passed() {
            format!("{OK}ok    {OK:#}")
        } else {
            format!("{FAILED}FAILED{FAILED:#}")
        };
        let clock = match r.clock {
            cattackle_harness::scenario::model::Clock::Virtual => "virtual",
            cattackle_harness::scenario::model::Clock::Real => "real",
        };
        let note = match result.snapshot {
            SnapshotCheck::Missing => ", no snapshot",
            SnapshotCheck::Written => ", snapshot written",
            _ => "",
        };
        let seed = if self.repeated {
            format!(" [run {run}, seed {}]", r.seed)
        } else {
            String::new()
        };
        if let Some(why) = &r.skipped {
            out!(
                "[{done:>3}/{}] {status} {}{seed} ({why})",
                self.total,
                r.name
            );
            return;
        }
        out!(
            "[{done:>3}/{}] {status} {}{seed} ({} {clock}, {} wall{note})",
            self.total,
            r.name,
            Dur(round_ms(r.clock_time)),
            Dur(round_ms(r.wall_time)),
        );
    }

    pub(crate) fn end(&self, report: &TestReport, results: &[(u32, TrialResult)]) {
        match self.format {
            Format::Json => out!(
                "{}",
                serde_json::to_string_pretty(report).unwrap_or_default()
            ),
            Format::JsonLines => self.event(&TestEvent::Summary {
                passed: report.passed,
                summary: report.summary.clone(),
                flaky: report.flaky.clone(),
            }),
            Format::Human => {
                if let Some(bar) = &self.bar {
                    bar.finish_and_clear();
                }
                summarize(report, results);
            }
        }
    }
}

fn summarize(report: &TestReport, results: &[(u32, TrialResult)]) {
    let failed: Vec<&(u32, TrialResult)> =
        results.iter().filter(|(_, r)| !r.report.passed()).collect();
    if !failed.is_empty() {
        out!("\nfailures:");
    }
    for (_, o) in &failed {
        let r = &o.report;
        out!("\n---- {} ----", r.name);
        for f in &r.failures {
            out!("{}: {}", f.at, coloured_diff(&f.message));
        }
        out!("reproduce: {}", reproduce(&o.path, &r.name, r.seed));
    }
    if !report.flaky.is_empty() {
        out!("\nflaky (the outcome differed between runs):");
        for f in &report.flaky {
            out!(
                "  {}: failed with seed(s) {:?}, passed with {:?}",
                f.name,
                f.failed_seeds,
                f.passed_seeds
            );
            for line in &f.reproduce {
                out!("    {line}");
            }
        }
    }
    if !report.stray_snapshots.is_empty() {
        out!(
            "\nsnapshot files that no trial uses (delete them; `--check-stray-snapshots=false` skips this check):"
        );
        for path in &report.stray_snapshots {
            out!("  {}", Path::new(path).display());
        }
    }
    let s = &report.summary;
    let mut notes = String::new();
    if s.skipped > 0 {
        notes.push_str(&format!(", {} skipped", s.skipped));
    }
    if s.flaky > 0 {
        notes.push_str(&format!(", {} flaky", s.flaky));
    }
    if s.not_run > 0 {
        notes.push_str(&format!(", {} not run (--fail-fast)", s.not_run));
    }
    if s.stray_snapshots > 0 {
        notes.push_str(&format!(", {} stray snapshot(s)", s.stray_snapshots));
    }
    if let Some(p) = &report.partition {
        notes.push_str(&format!("; shard {p}"));
    }
    let verdict = if report.passed {
        format!("{OK}ok{OK:#}")
    } else {
        format!("{FAILED}FAILED{FAILED:#}")
    };
    out!(
        "\ntest result: {verdict}. {} passed, {} failed{notes}; {} of scenario time in {} wall time",
        s.passed,
        s.failed,
        human(Duration::from_millis(s.scenario_time_ms)),
        human(Duration::from_millis(s.wall_time_ms)),
    );
}

/// A failure's text with its diff lines (`+ now`, `- stored`) coloured.
fn coloured_diff(message: &str) -> String {
    message
        .lines()
        .map(|line| {
            let style = match line.as_bytes().first() {
                Some(b'+') if !line.starts_with("+++") => Some(ADDED),
                Some(b'-') if !line.starts_with("---") => Some(REMOVED),
                _ => None,
            };
            match style {
                Some(s) => format!("{s}{line}{s:#}"),
                None => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

/// `1h 1m 19.604s`, `8.924s`.
fn human(d: Duration) -> String {
    let secs = d.as_secs();
    let rest = Dur(round_ms(Duration::from_millis(
        (d.as_millis() % 60_000) as u64,
    )));
    match (secs / 3600, secs % 3600 / 60) {
        (0, 0) => rest.to_string(),
        (0, m) => format!("{m}m {rest}"),
        (h, m) => format!("{h}h {m}m {rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_read_both_ways() {
        let s: Seeds = "3..6".parse().unwrap();
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![3, 4, 5]);
        let s: Seeds = "3..=6".parse().unwrap();
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![3, 4, 5, 6]);
        for bad in ["5..5", "6..3", "a..b", "3", "0..999999999"] {
            assert!(bad.parse::<Seeds>().is_err(), "{bad}");
        }
    }
}
