//! `cattackle list`.

use std::path::Path;

use cattackle_harness::config::{TransportConfig, scan_dir};
use cattackle_harness::transport::public_url;

use super::{EXIT_OK, EXIT_USAGE};

pub(crate) fn run(dir: &Path) -> u8 {
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
    for entry in entries {
        match entry {
            Ok(loaded) => {
                let c = &loaded.config;
                let source = c.source.clone().unwrap_or_default();
                for warning in routing_warnings(&c.name, &source, &mut seen) {
                    eprintln!("warning: {warning}");
                }
                println!("{} {} ({})", c.name, c.version, transport(&c.mcp.transport));
                println!("  {}", c.description);
                for (command, info) in &c.commands {
                    println!("  /{}_{command}  {}", c.name, info.description);
                }
                if !loaded.warnings.is_empty() {
                    eprintln!("{}", loaded.render_warnings());
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("{}", e.render());
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} cattackle(s) failed to load");
        return EXIT_USAGE;
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
