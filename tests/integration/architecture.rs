//! The layout is the architecture: every `crate::`/`super::` path in `src/` points down the
//! layers, and no two files import each other, directly or around a loop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The library's top-level modules, lowest first: each may use only those before it.
const LAYERS: &[&str] = &[
    "util",
    "config",
    "transport",
    "manager",
    "journal",
    "scenario",
    "mock",
    "relay",
    "harness",
    "trial",
    "check",
];

/// Module path of a file: `src/mock/server.rs` → `mock::server`, `src/mock/mod.rs` → `mock`.
fn module_of(file: &Path, src: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every path after `crate::` or `super::` in the code (comments left out), as segments;
/// `super` resolved against `module`, and `{a, b::c}` groups expanded.
fn referenced(text: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    // `super` of `a::b` is `a`, whether `b` is a file or a folder's `mod.rs`.
    let parent = module[..module.len().saturating_sub(1)].to_vec();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        let mut rest = code.as_str();
        while let Some(i) = rest.find(prefix) {
            let before = rest[..i].chars().last();
            rest = &rest[i + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let group_start = rest.starts_with('{');
            let taken: String = if group_start {
                rest[1..].chars().take_while(|c| *c != '}').collect()
            } else {
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect()
            };
            for item in taken.split(',') {
                let item = item.trim().trim_start_matches("self::");
                let segs: Vec<String> = item
                    .split("::")
                    .map(|s| s.split_whitespace().next().unwrap_or("").to_owned())
                    .filter(|s| !s.is_empty() && s != "{")
                    .collect();
                if !segs.is_empty() {
                    let mut full = base.clone();
                    full.extend(segs);
                    out.push(full);
                }
            }
        }
    }
    out
}

#[test]
fn imports_point_down_the_layers_and_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut modules: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for file in &all {
        modules.insert(
            module_of(file, &src),
            std::fs::read_to_string(file).unwrap(),
        );
    }
    let known: BTreeSet<Vec<String>> = modules.keys().cloned().collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    let mut upward = Vec::new();
    for (module, text) in &modules {
        if module.first().is_some_and(|m| m == "cli") || module.is_empty() {
            continue; // the program (its own crate) and the crate roots
        }
        for path in referenced(text, module) {
            let Some(target) = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| known.contains(p))
            else {
                continue;
            };
            if &target == module || module.starts_with(&target) {
                continue; // itself, or an ancestor's re-exports
            }
            let rank = |m: &Vec<String>| LAYERS.iter().position(|l| *l == m[0]);
            if let (Some(from), Some(to)) = (rank(module), rank(&target))
                && to > from
            {
                upward.push(format!("{} -> {}", module.join("::"), target.join("::")));
            }
            edges.entry(module.clone()).or_default().insert(target);
        }
    }
    assert!(
        upward.is_empty(),
        "imports up the layers {LAYERS:?}:\n{}",
        upward.join("\n")
    );
    // A file-level cycle: a path back to where it started (depth-first, colours).
    let mut state: BTreeMap<Vec<String>, u8> = BTreeMap::new();
    fn visit(
        m: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<String>> {
        state.insert(m.clone(), 1);
        stack.push(m.clone());
        for next in edges.get(m).into_iter().flatten() {
            match state.get(next) {
                Some(1) => {
                    let from = stack.iter().position(|s| s == next).unwrap();
                    let mut cycle: Vec<String> =
                        stack[from..].iter().map(|s| s.join("::")).collect();
                    cycle.push(next.join("::"));
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(cycle) = visit(next, edges, state, stack) {
                        return Some(cycle);
                    }
                }
            }
        }
        stack.pop();
        state.insert(m.clone(), 2);
        None
    }
    for module in edges.keys() {
        if !state.contains_key(module) {
            let cycle = visit(module, &edges, &mut state, &mut Vec::new());
            assert!(
                cycle.is_none(),
                "an import cycle: {}",
                cycle.unwrap().join(" -> ")
            );
        }
    }
    assert!(edges.len() > 40, "the check saw the files: {}", edges.len());
}
