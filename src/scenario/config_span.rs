//! Positions in the scenario file for problems of the cattackle configuration it writes inline
//! or overrides.
//!
//! A scenario's configuration is its `cattackle.toml` (or `inline` table) with `overrides` (and
//! later `reload` overrides) merged in, parsed as TOML. A diagnostic of that merged text names a
//! key path (`cattackle.mcp.timeout`); when the scenario wrote that key, the diagnostic is moved
//! to the key (or its value) in the YAML, where the user can fix it.

use crate::config::Diagnostic;

/// Where a configuration problem may have been written in the scenario file.
#[derive(Clone, Copy, Debug)]
pub(super) enum Written {
    /// `cattackle.overrides` or `cattackle.inline` (the first load).
    InCattackle,
    /// A `reload` step's `overrides`.
    InReload,
}

/// `diagnostic`, moved to the scenario file (`file`, `text`) when the key it names was written
/// there; `None` when it comes from the `cattackle.toml` file itself.
pub(super) fn moved(
    diagnostic: &Diagnostic,
    merged: &str,
    file: &str,
    text: &str,
    written: Written,
) -> Option<Diagnostic> {
    let (path, at_value) = key_path_at(merged, diagnostic.span.start)?;
    let segments: Vec<&str> = path.iter().map(String::as_str).collect();
    // Under `overrides` and `inline`, the YAML holds the `[cattackle]` table itself.
    let segments = match segments.split_first() {
        Some((&"cattackle", rest)) if !rest.is_empty() => rest,
        _ => &segments[..],
    };
    let anchors = anchors(text, written);
    let (key, value) = anchors
        .iter()
        .find_map(|&anchor| locate(text, anchor, segments))?;
    let span = if at_value { value } else { key };
    let mut moved = Diagnostic::new(
        diagnostic.severity,
        file,
        text,
        span,
        diagnostic.message.clone(),
    );
    moved.help = diagnostic.help.clone();
    Some(moved)
}

/// The key path of the TOML line holding `offset` (its table header, then its key), and whether
/// `offset` is in the value rather than the key.
fn key_path_at(toml: &str, offset: usize) -> Option<(Vec<String>, bool)> {
    let mut table = Vec::new();
    let mut start = 0;
    for line in toml.split_inclusive('\n') {
        let end = start + line.len();
        let trimmed = line.trim();
        if trimmed.starts_with('[') && !trimmed.starts_with("[[") {
            table = split_dotted(trimmed.trim_matches(|c| c == '[' || c == ']'));
        }
        if (start..end.max(start + 1)).contains(&offset) {
            if trimmed.starts_with('[') {
                return Some((table, false));
            }
            let (key, _) = line.split_once('=')?;
            let key_end = start + key.len();
            table.extend(split_dotted(key.trim()));
            return Some((table, offset > key_end));
        }
        start = end;
    }
    None
}

fn split_dotted(path: &str) -> Vec<String> {
    path.split('.')
        .map(|s| s.trim().trim_matches('"').to_owned())
        .collect()
}

/// Byte offsets of the `overrides:` / `inline:` keys the configuration may come from, most
/// likely first: for a reload, the latest reload's, then the scenario's own.
fn anchors(text: &str, written: Written) -> Vec<usize> {
    let cattackle = super::error::top_key(text, "cattackle");
    let steps = super::error::top_key(text, "steps");
    let mut own: Vec<usize> = ["overrides", "inline"]
        .iter()
        .flat_map(|key| find_keys(text, key, 0, text.len()))
        .filter(|&at| at > cattackle && (steps <= cattackle || at < steps))
        .collect();
    own.sort_unstable();
    match written {
        Written::InCattackle => own,
        Written::InReload => {
            let mut reloads: Vec<usize> = find_keys(text, "overrides", 0, text.len())
                .into_iter()
                .filter(|&at| steps > cattackle && at > steps)
                .collect();
            reloads.sort_unstable();
            reloads.reverse();
            reloads.extend(own);
            reloads
        }
    }
}

/// The spans of the key `segments` (and of its value) under the key at `anchor`.
fn locate(
    text: &str,
    anchor: usize,
    segments: &[&str],
) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let end = block_end(text, anchor);
    let mut from = anchor;
    let mut key = None;
    for segment in segments {
        let at = *find_keys(text, segment, from, end).first()?;
        key = Some(at..at + segment.len());
        from = at + segment.len();
    }
    let key = key?;
    let after = text[key.end..end].find(':')? + key.end + 1;
    let value_start = after + (text[after..end].len() - text[after..end].trim_start().len());
    let value_end = text[value_start..end]
        .find([',', '}', '\n'])
        .map_or(end, |n| value_start + n);
    let value_end = value_start + text[value_start..value_end].trim_end().len();
    Some((
        key,
        value_start..value_end.max(value_start + 1).min(text.len()),
    ))
}

/// Where the value of the key at `anchor` ends: the next line indented no deeper than the key.
fn block_end(text: &str, anchor: usize) -> usize {
    let line_start = text[..anchor].rfind('\n').map_or(0, |n| n + 1);
    let indent = text[line_start..anchor]
        .chars()
        .take_while(|c| *c == ' ' || *c == '-')
        .count();
    let mut offset = text[anchor..]
        .find('\n')
        .map_or(text.len(), |n| anchor + n + 1);
    while offset < text.len() {
        let line = &text[offset..];
        let line_end = line.find('\n').map_or(text.len(), |n| offset + n + 1);
        let body = &text[offset..line_end];
        let depth = body.chars().take_while(|c| *c == ' ').count();
        if !body.trim().is_empty() && !body.trim_start().starts_with('#') && depth <= indent {
            return offset;
        }
        offset = line_end;
    }
    text.len()
}

/// Offsets of `key` written as a YAML mapping key (plain or quoted, block or flow style)
/// between `from` and `to`.
fn find_keys(text: &str, key: &str, from: usize, to: usize) -> Vec<usize> {
    // An empty key (a TOML path with an empty segment) would match everywhere, forever: the
    // `scenario` fuzz target found this loop filling memory.
    if key.is_empty() || from > to || to > text.len() {
        return Vec::new();
    }
    let region = &text[from..to];
    let mut found = Vec::new();
    let mut search = 0;
    while let Some(at) = region[search..].find(key) {
        let start = search + at;
        let end = start + key.len();
        search = end;
        let before = region[..start].chars().next_back();
        let boundary =
            before.is_none_or(|c| c.is_whitespace() || matches!(c, '{' | ',' | '"' | '\''));
        let rest = region[end..]
            .trim_start_matches(['"', '\''])
            .trim_start_matches(' ');
        if boundary && rest.starts_with(':') {
            found.push(from + start);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_key_is_found_nowhere_and_ends() {
        assert!(find_keys("a: 1\nb: 2\n", "", 0, 10).is_empty());
        assert_eq!(find_keys("a: 1\nb: 2\n", "b", 0, 10), [5]);
    }

    #[test]
    fn a_toml_line_gives_its_key_path() {
        let toml = "[cattackle]\nname = \"x\"\n\n[cattackle.mcp]\ntimeout = \"soon\"\n";
        let at = toml.find("\"soon\"").unwrap();
        assert_eq!(
            key_path_at(toml, at),
            Some((
                vec!["cattackle".into(), "mcp".into(), "timeout".into()],
                true
            ))
        );
        let at = toml.find("timeout").unwrap();
        assert!(!key_path_at(toml, at).unwrap().1, "at the key");
    }

    #[test]
    fn a_key_path_is_found_in_flow_and_block_yaml() {
        let text =
            "cattackle:\n  file: x.toml\n  overrides: { mcp: { timeout: soon } }\nsteps: []\n";
        let anchor = text.find("overrides").unwrap();
        let (key, value) = locate(text, anchor, &["mcp", "timeout"]).unwrap();
        assert_eq!(&text[key], "timeout");
        assert_eq!(&text[value], "soon");

        let text = "cattackle:\n  overrides:\n    mcp:\n      timout: 1\nsteps: []\n";
        let anchor = text.find("overrides").unwrap();
        let (key, _) = locate(text, anchor, &["mcp", "timout"]).unwrap();
        assert_eq!(&text[key], "timout");
        assert!(locate(text, anchor, &["mcp", "nothere"]).is_none());
    }
}
