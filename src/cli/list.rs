//! `cattackle list`.

use std::path::{Path, PathBuf};

use cattackle_harness::config::{TransportConfig, scan_dir};
use cattackle_harness::transport::public_url;

use super::{EXIT_OK, EXIT_USAGE};

#[derive(clap::Args, Debug)]
pub(crate) struct ListArgs {
    /// A directory whose immediate children hold `cattackle.toml` files.
    #[arg(default_value = "cattackles")]
    dir: PathBuf,
    /// Also start each cattackle and ask it for its tools (`tools/list`): show which declared
    /// commands it lists, its annotations (`idempotentHint`, `readOnlyHint`, `destructiveHint`)
    /// beside the `idempotent` setting that retries follow, and the tools it lists undeclared.
    #[arg(long)]
    tools: bool,
}

pub(crate) async fn run(args: ListArgs) -> u8 {
    let dir = args.dir.as_path();
    let entries = match scan_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            eprintln!("{}", e.render());
            return EXIT_USAGE;
        }
    };
    if entries.is_empty() {
        eprintln!(
            "no cattackles under `{}` (looked for */cattackle.toml)",
            dir.display()
        );
        return EXIT_OK;
    }
    let mut failed = 0;
    let mut seen: std::collections::BTreeMap<String, std::path::PathBuf> = Default::default();
    let mut loaded_configs = Vec::new();
    for entry in entries {
        match entry {
            Ok(loaded) => {
                let c = &loaded.config;
                let source = c.source.clone().unwrap_or_default();
                for warning in routing_warnings(&c.name, &source, &mut seen) {
                    eprintln!("warning: {warning}");
                }
                if !loaded.warnings.is_empty() {
                    eprintln!("{}", loaded.render_warnings());
                }
                loaded_configs.push(loaded.config);
            }
            Err(e) => {
                failed += 1;
                eprintln!("{}", e.render());
            }
        }
    }
    let listed = if args.tools {
        super::list_tools::ask_all(&loaded_configs).await
    } else {
        Vec::new()
    };
    let mut unreachable = None;
    for (i, c) in loaded_configs.iter().enumerate() {
        println!("{} {} ({})", c.name, c.version, transport(&c.mcp.transport));
        println!("  {}", c.description);
        match listed.get(i) {
            None => {
                for (command, info) in &c.commands {
                    println!("  /{}_{command}  {}", c.name, info.description);
                }
            }
            Some(tools) => {
                if let Err(code) = super::list_tools::print(c, tools) {
                    unreachable.get_or_insert(code);
                }
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} cattackle(s) failed to load");
        return EXIT_USAGE;
    }
    if let Some(code) = unreachable {
        eprintln!("some cattackle(s) could not be asked for their tools");
        return code;
    }
    EXIT_OK
}

/// What would break the chat core's routing (`/name_command`, split on the first `_`): a name
/// used twice, or a name with `_`.
fn routing_warnings(
    name: &str,
    source: &Path,
    seen: &mut std::collections::BTreeMap<String, std::path::PathBuf>,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(first) = seen.get(name) {
        warnings.push(format!(
            "cattackle name `{name}` is used twice ({} and {}): their commands would collide in routing and share one session",
            first.display(),
            source.display()
        ));
    } else {
        seen.insert(name.to_owned(), source.to_owned());
    }
    if name.contains('_') {
        warnings.push(format!(
            "cattackle name `{name}` contains `_`: the router splits `/{name}_command` on the first `_`, so its commands cannot be addressed ({})",
            source.display()
        ));
    }
    warnings
}

/// The transport in one line, without secrets: no env values, headers, URL credentials or query.
fn transport(t: &TransportConfig) -> String {
    match t {
        TransportConfig::Stdio(s) => {
            let mut line = format!("stdio: {}", s.command);
            for arg in &s.args {
                line.push(' ');
                line.push_str(arg);
            }
            line
        }
        TransportConfig::WebSocket { url, .. } => format!("websocket: {}", public_url(url)),
        TransportConfig::Http { url, .. } => format!("http: {}", public_url(url)),
    }
}
