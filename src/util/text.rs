//! Reading input files as text, with the position of what is wrong: the first byte that is not
//! UTF-8, the first bracket nested too deep.

use std::path::Path;

/// Why a file could not be read as text.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The file could not be read at all.
    Io(std::io::Error),
    /// Byte `offset` starts what is not UTF-8; `lossy` is the text with it replaced, for
    /// rendering (every byte before `offset` is as in the file).
    NotUtf8 {
        /// The first invalid byte.
        offset: usize,
        /// The file, its invalid bytes replaced by U+FFFD.
        lossy: String,
    },
}

/// The file's text.
pub(crate) fn read_text(path: &Path) -> Result<String, ReadError> {
    let bytes = std::fs::read(path).map_err(ReadError::Io)?;
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        offset: e.utf8_error().valid_up_to(),
        lossy: String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// How deep flow collections (`[`, `{`) may nest in a YAML file.
#[cfg(feature = "harness")]
pub(crate) const MAX_FLOW_DEPTH: usize = 128;

/// The byte offset of the first `[` or `{` nested deeper than [`MAX_FLOW_DEPTH`] in YAML `text`,
/// found in one pass (the YAML parser takes quadratic time on deep nesting before its own limit
/// stops it). Quoted scalars and comments are skipped; outside flow collections, a bracket
/// counts only where a node can start (after `:`, `-`, `,` or at the start of a line).
#[cfg(feature = "harness")]
pub(crate) fn too_deep_yaml(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    // The last byte that was not a space or tab, on this line (None: the line's start).
    let mut before: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => before = None,
            b' ' | b'\t' => {}
            b'#' if matches!(
                i.checked_sub(1).map(|j| bytes[j]),
                None | Some(b' ' | b'\t' | b'\n')
            ) =>
            {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\''
                if depth > 0 || matches!(before, None | Some(b':' | b'-' | b',' | b'[' | b'{')) =>
            {
                i = skip_quoted(bytes, i);
                before = Some(b);
                continue;
            }
            b'[' | b'{'
                if depth > 0 || matches!(before, None | Some(b':' | b'-' | b',' | b'?')) =>
            {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Some(i);
                }
                before = Some(b);
            }
            b']' | b'}' if depth > 0 => {
                depth -= 1;
                before = Some(b);
            }
            _ => before = Some(b),
        }
        i += 1;
    }
    None
}

#[cfg(feature = "harness")]
/// Past the quoted scalar that starts at `start` (`"` with backslash escapes, `'` with `''`).
fn skip_quoted(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_nesting_is_found_where_it_passes_the_limit() {
        let deep = format!("a: {}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(too_deep_yaml(&deep), Some(3 + MAX_FLOW_DEPTH));
        let ok = format!("a: {}{}", "[".repeat(128), "]".repeat(128));
        assert_eq!(too_deep_yaml(&ok), None);
        let mixed = format!("a:\n  - {}{}", "{b: [".repeat(70), "]}".repeat(70));
        assert!(too_deep_yaml(&mixed).is_some());
    }

    #[test]
    fn brackets_in_strings_comments_and_plain_scalars_do_not_count() {
        let text = format!(
            "a: \"{open}\"\nb: '{open}'\n# {open}\nc: x{open}\nd: [\"{open}\", 'it''s {open}']\n",
            open = "[".repeat(300)
        );
        assert_eq!(too_deep_yaml(&text), None);
    }

    #[test]
    fn invalid_utf8_is_found_at_its_byte() {
        let dir = std::env::temp_dir().join(format!("cattackle-utf8-{}", std::process::id()));
        std::fs::write(&dir, b"name: caf\xe9\n").unwrap();
        match read_text(&dir) {
            Err(ReadError::NotUtf8 { offset, lossy }) => {
                assert_eq!(offset, 9);
                assert!(lossy.starts_with("name: caf\u{fffd}"));
            }
            other => panic!("{other:?}"),
        }
        let _ = std::fs::remove_file(&dir);
    }
}
