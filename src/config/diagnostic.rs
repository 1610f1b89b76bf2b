//! Positioned messages about a configuration file, rendered rustc-style.

use std::fmt;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The file still loads.
    Warning,
    /// The file does not load.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Warning => "warning",
            Self::Error => "error",
        })
    }
}

/// One message about one place of a file: `file:line:column: severity: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A lowercase fragment that names the offending key or value.
    pub message: String,
    /// A hint, such as the nearest valid key.
    pub help: Option<String>,
    /// The file, as the user named it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte range in the file.
    pub span: Range<usize>,
}

impl Diagnostic {
    pub(crate) fn new(
        severity: Severity,
        file: &str,
        source: &str,
        span: Range<usize>,
        message: String,
    ) -> Self {
        // On character boundaries: a parser's span may end inside a multi-byte character, and
        // the renderer slices the source there.
        let mut start = span.start.min(source.len());
        while !source.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = span.end.clamp(start, source.len());
        while !source.is_char_boundary(end) {
            end += 1;
        }
        let before = &source[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = source[line_start..start].chars().count() + 1;
        Self {
            severity,
            message,
            help: None,
            file: file.to_owned(),
            line,
            column,
            span: start..end,
        }
    }

    pub(crate) fn with_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// Renders the diagnostic rustc-style: the message, `--> file:line:col`, the source line
    /// and a caret under the span, then the hint.
    pub fn render(&self, source: &str) -> String {
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        // An empty span marks the character at its start; either end is snapped to a character
        // boundary of the text rendered (which may be the masked source).
        let snap = |mut at: usize, up: bool| {
            at = at.min(source.len());
            while !source.is_char_boundary(at) {
                at = if up { at + 1 } else { at - 1 };
            }
            at
        };
        let start = snap(self.span.start, false);
        let end = if self.span.is_empty() {
            source[start..]
                .chars()
                .next()
                .map_or(start, |c| start + c.len_utf8())
        } else {
            snap(self.span.end, true).max(start)
        };
        let span = start..end;
        let mut report = vec![
            level.primary_title(self.message.as_str()).element(
                Snippet::source(source)
                    .path(self.file.as_str())
                    .annotation(AnnotationKind::Primary.span(span)),
            ),
        ];
        if let Some(help) = &self.help {
            report.push(Group::with_title(
                Level::HELP.secondary_title(help.as_str()),
            ));
        }
        Renderer::plain().render(&report)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.severity, self.message
        )?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_inside_a_multibyte_character_render_instead_of_panicking() {
        // Found by the `config` fuzz target: TOML's error span ended inside `ޕ` (2 bytes).
        let source = "type = \u{795}ttp\"\n";
        let d = Diagnostic::new(Severity::Error, "f.toml", source, 7..8, "bad".to_owned());
        assert_eq!(d.span, 7..9);
        assert!(d.render(source).contains("f.toml:1:8"));
        // An empty span at a multibyte character marks the whole character.
        let d = Diagnostic::new(Severity::Error, "f.toml", source, 7..7, "bad".to_owned());
        assert!(d.render(source).contains('^'));
    }
}
