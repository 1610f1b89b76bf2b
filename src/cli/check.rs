//! `cattackle check`: the conformance pack against cattackles or any MCP server.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use cattackle_harness::check::{
    self, Baseline, Era, Options, Pack, RunReport, Selection, Target, report,
};
use cattackle_harness::config::{load_path, scan_dir};

use super::exit::{EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE};
use super::program_dirs;

const ABOUT: &str = "\
Every check opens its own sessions. For a cattackle, every declared command is called, with
harmless inputs only: the router's payload with short texts (empty, unicode), unknown `extra`
keys, 100 timed calls, and one payload just under max_payload_size when that is set.";

const EXAMPLES: &str = "\
Examples:
  cattackle check cattackles/echo
  cattackle check cattackles                      # every cattackle in the directory
  cattackle check --stdio 'npx -y @modelcontextprotocol/server-everything'
  cattackle check --url http://127.0.0.1:3001/mcp --header 'Authorization=Bearer …'
  cattackle check cattackles/echo --format json --junit check.xml --baseline check-baseline.yaml
  cattackle check --list";

#[derive(clap::Args, Debug)]
#[command(after_help = format!("{ABOUT}\n\n{}\n\n{EXAMPLES}", super::EXIT_CODES))]
pub(crate) struct CheckArgs {
    /// A `cattackle.toml`, a directory holding one, or a cattackles directory (each one a suite).
    #[arg(required_unless_present_any = ["stdio", "url", "list"], conflicts_with_all = ["stdio", "url"])]
    target: Option<PathBuf>,
    /// Any MCP server over stdio: its command line (split like a shell would; no shell runs).
    #[arg(long, value_name = "COMMAND", conflicts_with = "url")]
    stdio: Option<String>,
    /// Any MCP server over WebSocket (ws://, wss://) or Streamable HTTP (http://, https://).
    #[arg(long)]
    url: Option<String>,
    /// A header for --url, NAME=VALUE (repeat for several). Values never appear in output.
    #[arg(long = "header", value_name = "NAME=VALUE", requires = "url")]
    headers: Vec<String>,
    /// Run only these checks: ids, or areas (`stdio`, `contract`); repeat for several.
    #[arg(long, value_name = "ID")]
    only: Vec<String>,
    /// Skip these checks: ids or areas.
    #[arg(long, value_name = "ID")]
    skip: Vec<String>,
    /// Failures to accept (YAML: check id → reason, or → { suite: reason }).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write the current failures as a baseline to FILE.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// `human` (default), `json` (one stable document, docs/check-report.schema.json), or
    /// `json-lines` (a `suite` event as each target is done, then a `summary`).
    #[arg(long, default_value = "human", value_parser = ["human", "json", "json-lines"])]
    format: String,
    /// Also write JUnit XML to PATH.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Also write an HTML report to PATH (one self-contained file: failures first).
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// The handshake: `auto` (initialize 2025-11-25; 2026 checks when the server speaks it),
    /// `2025-06-18`, `2025-11-25`, or `2026-07-28` (server/discover, stateless).
    #[arg(long, default_value = "auto", value_parser = ["auto", "2025-06-18", "2025-11-25", "2026-07-28"])]
    era: String,
    /// Warnings (SHOULD checks) fail the run too.
    #[arg(long)]
    strict: bool,
    /// Bound on each request, in seconds.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    timeout: f64,
    /// Bound on each check, in seconds.
    #[arg(long, default_value_t = 60.0, value_name = "SECS")]
    check_timeout: f64,
    /// Checks run at once.
    #[arg(long, default_value_t = 4)]
    jobs: usize,
    /// Add the checks of every *.yaml in DIR (the format of docs/check.md); repeat for several.
    #[arg(long, value_name = "DIR")]
    pack: Vec<PathBuf>,
    /// List every check (id, severity, what it checks, reference) and exit.
    #[arg(long)]
    list: bool,
}

pub(crate) async fn run(args: CheckArgs) -> u8 {
    let mut pack = Pack::default();
    for dir in &args.pack {
        pack = match pack.with_dir(dir) {
            Ok(pack) => pack,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_USAGE;
            }
        };
    }
    if args.list {
        print!("{}", report::human::list(&pack));
        return EXIT_OK;
    }
    let selection = Selection {
        only: args.only.clone(),
        skip: args.skip.clone(),
        strict: args.strict,
    };
    if let Some((unknown, nearest)) = selection.unknown(&pack).into_iter().next() {
        let hint = nearest
            .map(|n| format!(", did you mean `{n}`?"))
            .unwrap_or_default();
        eprintln!(
            "error: `{unknown}` is not a check id or area{hint} (see `cattackle check --list`)"
        );
        return EXIT_USAGE;
    }
    let options = match options(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_USAGE;
        }
    };
    let baseline = match &args.baseline {
        Some(path) => match Baseline::load(path, &pack) {
            Ok(b) => Some(b),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_USAGE;
            }
        },
        None => None,
    };
    let targets = match targets(&args) {
        Ok(targets) => targets,
        Err(code) => return code,
    };
    let progress = args.format == "human" && std::io::stderr().is_terminal();
    let mut suites = Vec::new();
    let total = targets.len();
    for (n, target) in targets.into_iter().enumerate() {
        if progress {
            eprint!("\rchecking {} ({} of {total})…\x1b[K", target.name(), n + 1);
        }
        let mut suite = check::run_suite(target, options.clone(), &selection, &pack).await;
        if args.format == "json-lines" {
            if let Some(b) = &baseline {
                b.mark(&mut suite);
            }
            let event = serde_json::json!({ "event": "suite", "suite": suite });
            println!("{event}");
        }
        suites.push(suite);
    }
    if progress {
        eprint!("\r\x1b[K");
    }
    let stale = baseline
        .as_ref()
        .map(|b| b.apply(&mut suites))
        .unwrap_or_default();
    let unreachable = suites.iter().any(|s| !s.reachable);
    let report = RunReport::new(suites, stale);
    match args.format.as_str() {
        "json" => println!("{}", report::json(&report)),
        "json-lines" => {
            let event = serde_json::json!({
                "event": "summary",
                "passed": report.passed,
                "summary": report.summary,
                "stale_baseline": report.stale_baseline,
            });
            println!("{event}");
        }
        _ => print!("{}", report::human::render(&report)),
    }
    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(path, report::junit::render(&report))
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return EXIT_USAGE;
    }
    if let Some(path) = &args.report
        && let Err(e) = std::fs::write(path, report::html(&report))
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return EXIT_USAGE;
    }
    if let Some(path) = &args.write_baseline {
        let text =
            serde_yaml::to_string(&Baseline::of_failures(&report.suites)).unwrap_or_default();
        let text = format!(
            "# cattackle check baseline: check id → {{ suite: reason }}; remove an entry once it passes\n{text}"
        );
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return EXIT_USAGE;
        }
    }
    if unreachable {
        EXIT_UNREACHABLE
    } else if report.passed {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

fn seconds(value: f64, flag: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{flag}: {value} is not a positive number of seconds"))
}

fn options(args: &CheckArgs) -> Result<Options, String> {
    Ok(Options {
        request_timeout: seconds(args.timeout, "--timeout")?,
        check_timeout: seconds(args.check_timeout, "--check-timeout")?,
        era: Era::parse(&args.era).ok_or_else(|| format!("--era: unknown era `{}`", args.era))?,
        jobs: args.jobs.max(1),
    })
}

/// The targets: one per cattackle, or the one server of --stdio / --url.
fn targets(args: &CheckArgs) -> Result<Vec<Target>, u8> {
    let usage = |e: &dyn std::fmt::Display| {
        eprintln!("error: {e}");
        EXIT_USAGE
    };
    if let Some(command) = &args.stdio {
        return Target::stdio(command, program_dirs())
            .map(|t| vec![t])
            .map_err(|e| usage(&e));
    }
    if let Some(url) = &args.url {
        return Target::url(url, &args.headers)
            .map(|t| vec![t])
            .map_err(|e| usage(&e));
    }
    let Some(path) = &args.target else {
        return Err(usage(&"give a TARGET, --stdio or --url"));
    };
    let single = path.is_file() || path.join("cattackle.toml").is_file();
    let loaded = if single {
        vec![load_path(path)]
    } else {
        match scan_dir(path) {
            Ok(entries) if entries.is_empty() => {
                return Err(usage(&format!(
                    "no cattackle.toml in or under `{}`",
                    path.display()
                )));
            }
            Ok(entries) => entries,
            Err(e) => {
                eprintln!("{}", e.render());
                return Err(EXIT_USAGE);
            }
        }
    };
    let mut targets = Vec::new();
    for entry in loaded {
        match entry {
            Ok(loaded) => {
                if !loaded.warnings.is_empty() {
                    eprintln!("{}", loaded.render_warnings());
                }
                targets.push(Target::cattackle(loaded.config, program_dirs()));
            }
            Err(e) => {
                eprintln!("{}", e.render());
                return Err(EXIT_USAGE);
            }
        }
    }
    Ok(targets)
}
