//! [`Redactor`]: what must not reach a snapshot, a report or an error, replaced as it is recorded.

/// Replaces what must not reach a snapshot or a report: secrets, temp paths, ports and pids.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    literal: Vec<(String, &'static str)>,
}

impl Redactor {
    /// Redacts each of `values` (secrets) as `[secret]`.
    pub fn secret(&mut self, values: impl IntoIterator<Item = String>) {
        for v in values {
            if !v.is_empty() {
                self.literal.push((v, "[secret]"));
            }
        }
    }

    /// Redacts a path (a temp dir) as `[tmp]`.
    pub fn path(&mut self, path: &std::path::Path) {
        self.literal.push((path.display().to_string(), "[tmp]"));
    }

    /// The text with secrets, paths, ports and pids replaced.
    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, with) in &self.literal {
            out = out.replace(value.as_str(), with);
        }
        for (prefix, with) in [
            ("127.0.0.1:", "[port]"),
            ("localhost:", "[port]"),
            ("pid ", "[pid]"),
            ("process ", "[pid]"),
        ] {
            out = redact_pattern(&out, prefix, with);
        }
        out
    }
}

/// Replaces the digits following each `prefix` with `with`.
fn redact_pattern(text: &str, prefix: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(prefix) {
        let after = i + prefix.len();
        out.push_str(&rest[..after]);
        let digits = rest[after..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - after);
        if digits > 0 {
            out.push_str(with);
        }
        rest = &rest[after + digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_ports_pids_and_secrets() {
        let mut r = Redactor::default();
        r.secret(["s3cret".to_owned()]);
        assert_eq!(
            r.apply("ws://127.0.0.1:40123/mcp pid 991 token s3cret"),
            "ws://127.0.0.1:[port]/mcp pid [pid] token [secret]"
        );
    }
}
