//! Walks the spanned TOML tree of a `cattackle.toml` into a [`CattackleConfig`], collecting every
//! diagnostic of the file rather than stopping at the first.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::model::{
    BackoffConfig, BreakerConfig, CattackleConfig, CommandConfig, HealthCheck, Jitter, McpConfig,
    Protocol, Reconnect, RetryBudgetConfig, Settings, TransportConfig,
};
use super::{Diagnostic, SecretMap, Severity, did_you_mean};

mod stdio;

type Val<'i> = Spanned<DeValue<'i>>;

const ROOT_KEYS: &[&str] = &[
    "name",
    "version",
    "description",
    "commands",
    "mcp",
    "settings",
    "tags",
    "dependencies",
    "author",
];
const MCP_KEYS: &[&str] = &[
    "timeout",
    "max_retries",
    "transport",
    "connect_timeout",
    "backoff",
    "health_check",
    "shutdown_grace",
    "max_message_size",
    "protocol",
    "deadline",
    "max_retry_after",
    "breaker",
    "retry_budget",
    "max_in_flight",
    "max_pending",
    "fallback",
    "keepalive_interval",
    "keepalive_failures",
    "idle_timeout",
    "reconnect",
];
const RECONNECTS: &[&str] = &["lazy", "eager"];
const STDIO_KEYS: &[&str] = &[
    "type",
    "command",
    "args",
    "env",
    "cwd",
    "inherit_env",
    "allow_env",
];
const URL_KEYS: &[&str] = &["type", "url", "headers"];
const ALL_TRANSPORT_KEYS: &[&str] = &[
    "type",
    "command",
    "args",
    "env",
    "cwd",
    "inherit_env",
    "allow_env",
    "url",
    "headers",
];
const BACKOFF_KEYS: &[&str] = &["base", "factor", "max", "jitter", "seed"];
const BREAKER_KEYS: &[&str] = &[
    "consecutive_failures",
    "failure_rate",
    "window",
    "min_calls",
    "base",
    "factor",
    "max",
];
const BUDGET_KEYS: &[&str] = &["ttl", "min_per_sec", "percent"];
const SETTINGS_KEYS: &[&str] = &["max_payload_size", "enable_logging"];
const COMMAND_KEYS: &[&str] = &["description", "idempotent"];
const TRANSPORT_TYPES: &[&str] = &["stdio", "websocket", "http"];
const JITTERS: &[&str] = &["none", "full", "equal"];
const HEALTH_CHECKS: &[&str] = &["liveness", "ping", "tools/list"];
const PROTOCOLS: &[&str] = &["auto", "2025-11-25", "2025-06-18", "2026-07-28"];

/// Parses `source` (read from `file`). Returns the configuration when there is no error, and
/// every diagnostic (errors and warnings) in file order.
pub(crate) fn parse(
    file: &str,
    source: &str,
) -> (Option<CattackleConfig>, Vec<Diagnostic>, Vec<Range<usize>>) {
    let mut walker = Walker {
        file,
        source,
        diagnostics: Vec::new(),
        secrets: Vec::new(),
    };
    let (root, syntax_errors) = DeTable::parse_recoverable(source);
    for error in &syntax_errors {
        let span = error.span().unwrap_or(0..0);
        walker.error(
            span,
            format!("invalid TOML: {}", error.message().trim_end()),
        );
    }
    let config = if syntax_errors.is_empty() {
        walker.root(&root)
    } else {
        None
    };
    let mut diagnostics = walker.diagnostics;
    diagnostics.sort_by_key(|d| (d.span.start, d.severity));
    let has_errors = diagnostics.iter().any(|d| d.severity == Severity::Error);
    (config.filter(|_| !has_errors), diagnostics, walker.secrets)
}

/// `source` with every byte of the `secrets` ranges but a string's quotes replaced by `*`:
/// byte offsets (and so every diagnostic's position) stay as they were.
pub(crate) fn masked(source: &str, secrets: &[Range<usize>]) -> String {
    let mut bytes = source.as_bytes().to_vec();
    for range in secrets {
        let Some(slice) = bytes.get_mut(range.clone()) else {
            continue;
        };
        let quoted = slice.len() >= 2
            && matches!(slice[0], b'"' | b'\'')
            && slice[0] == slice[slice.len() - 1];
        let inner = if quoted {
            1..slice.len() - 1
        } else {
            0..slice.len()
        };
        for b in &mut slice[inner] {
            *b = b'*';
        }
    }
    // Only whole characters were replaced by ASCII, byte for byte: still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

struct Walker<'s> {
    file: &'s str,
    source: &'s str,
    diagnostics: Vec<Diagnostic>,
    /// Byte ranges of the source that hold secrets (env and header values, a URL's userinfo
    /// and query values): diagnostics render the source with them masked.
    secrets: Vec<Range<usize>>,
}

impl Walker<'_> {
    fn error(&mut self, span: Range<usize>, message: String) {
        let d = Diagnostic::new(Severity::Error, self.file, self.source, span, message);
        self.diagnostics.push(d);
    }

    fn error_with_help(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        let d = Diagnostic::new(Severity::Error, self.file, self.source, span, message);
        self.diagnostics.push(d.with_help(help));
    }

    fn warn(&mut self, span: Range<usize>, message: String) {
        let d = Diagnostic::new(Severity::Warning, self.file, self.source, span, message);
        self.diagnostics.push(d);
    }

    fn root(&mut self, root: &Spanned<DeTable<'_>>) -> Option<CattackleConfig> {
        let nested = find(root.get_ref(), "cattackle").filter(|v| v.get_ref().is_table());
        let Some(nested) = nested else {
            return self.cattackle(root.get_ref(), root.span(), "");
        };
        for (key, _) in root.get_ref().iter() {
            if key.get_ref() != "cattackle" {
                let message = format!("unknown key `{}` outside `[cattackle]`", key.get_ref());
                self.warn(key.span(), message);
            }
        }
        let table = nested.get_ref().as_table()?;
        self.cattackle(table, nested.span(), "cattackle.")
    }

    fn cattackle(
        &mut self,
        table: &DeTable<'_>,
        span: Range<usize>,
        prefix: &str,
    ) -> Option<CattackleConfig> {
        let section = prefix.trim_end_matches('.');
        self.unknown_keys(table, ROOT_KEYS, section);
        let name = self.required(table, &span, prefix, "name", Self::string);
        let version = self.required(table, &span, prefix, "version", Self::string);
        let description = self.required(table, &span, prefix, "description", Self::string);
        let commands = self.required(table, &span, prefix, "commands", Self::commands);
        let mcp = self.required(table, &span, prefix, "mcp", Self::mcp);
        let settings = match find(table, "settings") {
            Some(v) => self.settings(v, &format!("{prefix}settings")),
            None => Some(Settings::default()),
        };
        Some(CattackleConfig {
            name: name?,
            version: version?,
            description: description?,
            commands: commands?,
            mcp: mcp?,
            settings: settings?,
            source: None,
        })
    }

    /// Looks up a required key and converts it, or reports it missing.
    fn required<'v, T>(
        &mut self,
        table: &'v DeTable<'_>,
        table_span: &Range<usize>,
        prefix: &str,
        key: &str,
        convert: impl FnOnce(&mut Self, &'v Val<'_>, &str) -> Option<T>,
    ) -> Option<T> {
        let path = format!("{prefix}{key}");
        match find(table, key) {
            Some(v) => convert(self, v, &path),
            None => {
                let start = table_span.start;
                self.error(start..start, format!("missing required key `{path}`"));
                None
            }
        }
    }

    fn unknown_keys(&mut self, table: &DeTable<'_>, known: &[&str], section: &str) {
        for (key, _) in table.iter() {
            let key_name = key.get_ref().as_ref();
            if known.contains(&key_name) {
                continue;
            }
            let place = if section.is_empty() {
                String::new()
            } else {
                format!(" in `[{section}]`")
            };
            let message = match did_you_mean(key_name, known.iter().copied()) {
                Some(near) => format!("unknown key `{key_name}`{place}, did you mean `{near}`?"),
                None => format!("unknown key `{key_name}`{place} (ignored)"),
            };
            self.warn(key.span(), message);
        }
    }

    fn mismatch(&mut self, v: &Val<'_>, path: &str, expected: &str) {
        let found = match v.get_ref() {
            DeValue::Table(_) => "a table".to_owned(),
            DeValue::Array(_) => "an array".to_owned(),
            other => {
                let text = self.source.get(v.span()).unwrap_or("").trim();
                format!("{} `{text}`", other.type_str())
            }
        };
        self.error(
            v.span(),
            format!("`{path}`: expected {expected}, found {found}"),
        );
    }

    fn table<'v, 'i>(&mut self, v: &'v Val<'i>, path: &str) -> Option<&'v DeTable<'i>> {
        let table = v.get_ref().as_table();
        if table.is_none() {
            self.mismatch(v, path, "a table");
        }
        table
    }

    fn string(&mut self, v: &Val<'_>, path: &str) -> Option<String> {
        let s = v.get_ref().as_str().map(str::to_owned);
        if s.is_none() {
            self.mismatch(v, path, "a string");
        }
        s
    }

    fn non_empty_string(&mut self, v: &Val<'_>, path: &str) -> Option<String> {
        let s = self.string(v, path)?;
        if s.trim().is_empty() {
            self.error(v.span(), format!("`{path}`: must not be empty"));
            return None;
        }
        Some(s)
    }

    fn boolean(&mut self, v: &Val<'_>, path: &str) -> Option<bool> {
        let b = v.get_ref().as_bool();
        if b.is_none() {
            self.mismatch(v, path, "a boolean");
        }
        b
    }

    fn integer(&mut self, v: &Val<'_>, path: &str, min: i128, max: i128) -> Option<i128> {
        let Some(int) = v.get_ref().as_integer() else {
            self.mismatch(v, path, "an integer");
            return None;
        };
        let value = i128::from_str_radix(int.as_str(), int.radix()).ok();
        match value {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                let range = if max == i128::from(u64::MAX) {
                    format!("at least {min}")
                } else {
                    format!("between {min} and {max}")
                };
                self.error(v.span(), format!("`{path}`: expected an integer {range}"));
                None
            }
        }
    }

    /// A number (integer or float), finite, at least `min` (or above it if `exclusive`).
    fn number(&mut self, v: &Val<'_>, path: &str, min: f64, exclusive: bool) -> Option<f64> {
        let n = match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|n| n as f64),
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            _ => {
                self.mismatch(v, path, "a number");
                return None;
            }
        };
        match n {
            Some(n) if n.is_finite() && (n > min || (!exclusive && n == min)) => Some(n),
            _ => {
                let bound = if exclusive {
                    "greater than"
                } else {
                    "at least"
                };
                let text = self.source.get(v.span()).unwrap_or("").trim().to_owned();
                let message = format!("`{path}`: expected a number {bound} {min}, found `{text}`");
                self.error(v.span(), message);
                None
            }
        }
    }

    fn seconds(&mut self, v: &Val<'_>, path: &str, allow_zero: bool) -> Option<Duration> {
        let secs = self.number(v, path, 0.0, !allow_zero)?;
        match Duration::try_from_secs_f64(secs) {
            Ok(d) => Some(d),
            Err(_) => {
                self.error(
                    v.span(),
                    format!("`{path}`: {secs} seconds is out of range"),
                );
                None
            }
        }
    }

    fn choice<'c>(
        &mut self,
        v: &Val<'_>,
        path: &str,
        what: &str,
        choices: &[&'c str],
    ) -> Option<&'c str> {
        let s = self.string(v, path)?;
        if let Some(c) = choices.iter().find(|c| **c == s) {
            return Some(c);
        }
        let listed: Vec<String> = choices.iter().map(|c| format!("`{c}`")).collect();
        let message = format!(
            "`{path}`: unknown {what} `{s}`, expected one of {}",
            listed.join(", ")
        );
        let help =
            did_you_mean(&s, choices.iter().copied()).map(|n| format!("did you mean `{n}`?"));
        self.error_with_help(v.span(), message, help);
        None
    }

    fn string_array(&mut self, v: &Val<'_>, path: &str) -> Option<Vec<String>> {
        let Some(array) = v.get_ref().as_array() else {
            self.mismatch(v, path, "an array of strings");
            return None;
        };
        let mut out = Some(Vec::new());
        for (i, item) in array.iter().enumerate() {
            let s = self.string(item, &format!("{path}[{i}]"));
            out = out.zip(s).map(|(mut out, s)| {
                out.push(s);
                out
            });
        }
        out
    }

    fn string_map(&mut self, v: &Val<'_>, path: &str) -> Option<SecretMap> {
        let table = self.table(v, path)?;
        let mut out = Some(BTreeMap::new());
        for (key, value) in table.iter() {
            // Env and header values are secrets: masked in the source, never quoted.
            self.secrets.push(value.span());
            let s = value.get_ref().as_str().map(str::to_owned);
            if s.is_none() {
                self.error(
                    value.span(),
                    format!(
                        "`{path}.{}`: expected a string, found {} (not shown: env and header values are secrets)",
                        key.get_ref(),
                        value.get_ref().type_str()
                    ),
                );
            }
            out = out.zip(s).map(|(mut out, s)| {
                out.insert(key.get_ref().to_string(), s);
                out
            });
        }
        out.map(SecretMap::new)
    }

    fn commands(&mut self, v: &Val<'_>, path: &str) -> Option<BTreeMap<String, CommandConfig>> {
        let table = self.table(v, path)?;
        let mut out = Some(BTreeMap::new());
        for (key, value) in table.iter() {
            let cmd_path = format!("{path}.{}", key.get_ref());
            let command = self.table(value, &cmd_path).and_then(|t| {
                self.unknown_keys(t, COMMAND_KEYS, &cmd_path);
                let prefix = format!("{cmd_path}.");
                let description =
                    self.required(t, &value.span(), &prefix, "description", Self::string);
                let idempotent = match find(t, "idempotent") {
                    Some(v) => self.boolean(v, &format!("{prefix}idempotent")),
                    None => Some(true),
                };
                description
                    .zip(idempotent)
                    .map(|(description, idempotent)| CommandConfig {
                        description,
                        idempotent,
                    })
            });
            out = out.zip(command).map(|(mut out, c)| {
                out.insert(key.get_ref().to_string(), c);
                out
            });
        }
        out
    }

    fn mcp(&mut self, v: &Val<'_>, path: &str) -> Option<McpConfig> {
        let table = self.table(v, path)?;
        self.unknown_keys(table, MCP_KEYS, path);
        let prefix = format!("{path}.");
        let transport = self.required(table, &v.span(), &prefix, "transport", Self::transport);
        let mut out = transport.map(McpConfig::new);
        for (key, value) in table.iter() {
            let key_path = format!("{prefix}{}", key.get_ref());
            let slot = out.as_mut();
            let ok = match key.get_ref().as_ref() {
                "timeout" => self
                    .seconds(value, &key_path, false)
                    .map(|d| slot.map(|m| m.timeout = d)),
                "connect_timeout" => self
                    .seconds(value, &key_path, false)
                    .map(|d| slot.map(|m| m.connect_timeout = d)),
                "shutdown_grace" => self
                    .seconds(value, &key_path, true)
                    .map(|d| slot.map(|m| m.shutdown_grace = d)),
                "max_retries" => self
                    .integer(value, &key_path, 0, 100)
                    .map(|n| slot.map(|m| m.max_retries = n as u32)),
                "health_check" => self
                    .choice(value, &key_path, "health check", HEALTH_CHECKS)
                    .map(|c| slot.map(|m| m.health_check = health_check(c))),
                "backoff" => self
                    .backoff(value, &key_path)
                    .map(|b| slot.map(|m| m.backoff = b)),
                "max_message_size" => self
                    .integer(value, &key_path, 1024, i128::from(u32::MAX))
                    .map(|n| slot.map(|m| m.max_message_size = n as usize)),
                "protocol" => self
                    .choice(value, &key_path, "protocol", PROTOCOLS)
                    .map(|p| slot.map(|m| m.protocol = protocol(p))),
                "deadline" => self
                    .seconds(value, &key_path, false)
                    .map(|d| slot.map(|m| m.deadline = Some(d))),
                "max_retry_after" => self
                    .seconds(value, &key_path, true)
                    .map(|d| slot.map(|m| m.max_retry_after = d)),
                "breaker" => self
                    .breaker(value, &key_path)
                    .map(|b| slot.map(|m| m.breaker = Some(b))),
                "retry_budget" => self
                    .retry_budget(value, &key_path)
                    .map(|b| slot.map(|m| m.retry_budget = Some(b))),
                "max_in_flight" => self
                    .integer(value, &key_path, 1, i128::from(u32::MAX))
                    .map(|n| slot.map(|m| m.max_in_flight = Some(n as u32))),
                "max_pending" => self
                    .integer(value, &key_path, 0, i128::from(u32::MAX))
                    .map(|n| slot.map(|m| m.max_pending = n as u32)),
                "fallback" => self
                    .string(value, &key_path)
                    .map(|f| slot.map(|m| m.fallback = Some(f))),
                "keepalive_interval" => self
                    .seconds(value, &key_path, false)
                    .map(|d| slot.map(|m| m.keepalive_interval = Some(d))),
                "keepalive_failures" => self
                    .integer(value, &key_path, 1, 1000)
                    .map(|n| slot.map(|m| m.keepalive_failures = n as u32)),
                "idle_timeout" => self
                    .seconds(value, &key_path, false)
                    .map(|d| slot.map(|m| m.idle_timeout = Some(d))),
                "reconnect" => self
                    .choice(value, &key_path, "reconnect", RECONNECTS)
                    .map(|r| {
                        slot.map(|m| {
                            m.reconnect = if r == "eager" {
                                Reconnect::Eager
                            } else {
                                Reconnect::Lazy
                            }
                        })
                    }),
                _ => Some(None),
            };
            if ok.is_none() {
                out = None;
            }
        }
        out
    }

    fn backoff(&mut self, v: &Val<'_>, path: &str) -> Option<BackoffConfig> {
        let table = self.table(v, path)?;
        self.unknown_keys(table, BACKOFF_KEYS, path);
        let mut out = Some(BackoffConfig::default());
        for (key, value) in table.iter() {
            let key_path = format!("{path}.{}", key.get_ref());
            let slot = out.as_mut();
            let ok = match key.get_ref().as_ref() {
                "base" => self
                    .seconds(value, &key_path, true)
                    .map(|d| slot.map(|b| b.base = d)),
                "max" => self
                    .seconds(value, &key_path, true)
                    .map(|d| slot.map(|b| b.max = d)),
                "factor" => self
                    .number(value, &key_path, 1.0, false)
                    .map(|f| slot.map(|b| b.factor = f)),
                "jitter" => self
                    .choice(value, &key_path, "jitter", JITTERS)
                    .map(|j| slot.map(|b| b.jitter = jitter(j))),
                "seed" => self
                    .integer(value, &key_path, 0, i128::from(u64::MAX))
                    .map(|s| slot.map(|b| b.seed = Some(s as u64))),
                _ => Some(None),
            };
            if ok.is_none() {
                out = None;
            }
        }
        out
    }

    fn breaker(&mut self, v: &Val<'_>, path: &str) -> Option<BreakerConfig> {
        let table = self.table(v, path)?;
        self.unknown_keys(table, BREAKER_KEYS, path);
        let mut out = Some(BreakerConfig::default());
        for (key, value) in table.iter() {
            let key_path = format!("{path}.{}", key.get_ref());
            let slot = out.as_mut();
            let ok = match key.get_ref().as_ref() {
                "consecutive_failures" => self
                    .integer(value, &key_path, 1, i128::from(u32::MAX))
                    .map(|n| slot.map(|b| b.consecutive_failures = n as u32)),
                "failure_rate" => self
                    .number(value, &key_path, 0.0, true)
                    .and_then(|r| self.at_most_one(value, &key_path, r))
                    .map(|r| slot.map(|b| b.failure_rate = r)),
                "window" => self
                    .integer(value, &key_path, 1, 10_000)
                    .map(|n| slot.map(|b| b.window = n as u32)),
                "min_calls" => self
                    .integer(value, &key_path, 1, 10_000)
                    .map(|n| slot.map(|b| b.min_calls = n as u32)),
                "base" => self
                    .seconds(value, &key_path, false)
                    .map(|d| slot.map(|b| b.base = d)),
                "max" => self
                    .seconds(value, &key_path, false)
                    .map(|d| slot.map(|b| b.max = d)),
                "factor" => self
                    .number(value, &key_path, 1.0, false)
                    .map(|f| slot.map(|b| b.factor = f)),
                _ => Some(None),
            };
            if ok.is_none() {
                out = None;
            }
        }
        out
    }

    fn retry_budget(&mut self, v: &Val<'_>, path: &str) -> Option<RetryBudgetConfig> {
        let table = self.table(v, path)?;
        self.unknown_keys(table, BUDGET_KEYS, path);
        let mut out = Some(RetryBudgetConfig::default());
        for (key, value) in table.iter() {
            let key_path = format!("{path}.{}", key.get_ref());
            let slot = out.as_mut();
            let ok = match key.get_ref().as_ref() {
                "ttl" => self
                    .number(value, &key_path, 1.0, false)
                    .and_then(|t| self.at_most(value, &key_path, t, 60.0, "seconds"))
                    .map(|t| slot.map(|b| b.ttl = Duration::from_secs_f64(t))),
                "min_per_sec" => self
                    .integer(value, &key_path, 0, 1_000_000)
                    .map(|n| slot.map(|b| b.min_per_sec = n as u32)),
                "percent" => self
                    .number(value, &key_path, 0.0, false)
                    .and_then(|p| self.at_most(value, &key_path, p, 1000.0, "retries per call"))
                    .map(|p| slot.map(|b| b.percent = p as f32)),
                _ => Some(None),
            };
            if ok.is_none() {
                out = None;
            }
        }
        out
    }

    fn at_most(&mut self, v: &Val<'_>, path: &str, n: f64, max: f64, unit: &str) -> Option<f64> {
        if n <= max {
            return Some(n);
        }
        self.error(
            v.span(),
            format!("`{path}`: at most {max} {unit}, found {n}"),
        );
        None
    }

    fn at_most_one(&mut self, v: &Val<'_>, path: &str, rate: f64) -> Option<f64> {
        if rate <= 1.0 {
            return Some(rate);
        }
        self.error(
            v.span(),
            format!("`{path}`: a rate is at most 1 (all attempts failed), found {rate}"),
        );
        None
    }

    fn transport(&mut self, v: &Val<'_>, path: &str) -> Option<TransportConfig> {
        let table = self.table(v, path)?;
        let prefix = format!("{path}.");
        let span = v.span();
        let kind = self.required(table, &span, &prefix, "type", |w, v, p| {
            w.choice(v, p, "transport type", TRANSPORT_TYPES)
        });
        let Some(kind) = kind else {
            self.unknown_keys(table, ALL_TRANSPORT_KEYS, path);
            return None;
        };
        let (known, other) = if kind == "stdio" {
            (STDIO_KEYS, URL_KEYS)
        } else {
            (URL_KEYS, STDIO_KEYS)
        };
        for (key, _) in table.iter() {
            let name = key.get_ref().as_ref();
            if other.contains(&name) && !known.contains(&name) {
                let message = format!("key `{prefix}{name}` is not used by `{kind}` transports");
                self.warn(key.span(), message);
            }
        }
        self.unknown_keys(table, ALL_TRANSPORT_KEYS, path);
        if kind == "stdio" {
            return self
                .stdio(table, &span, &prefix)
                .map(TransportConfig::Stdio);
        }
        let url = self.required(table, &span, &prefix, "url", |w, v, p| w.url(v, p, kind));
        let headers = self.optional(table, &prefix, "headers", Self::headers);
        let (url, headers) = (url?, headers?.unwrap_or_default());
        Some(if kind == "http" {
            TransportConfig::Http { url, headers }
        } else {
            TransportConfig::WebSocket { url, headers }
        })
    }

    fn url(&mut self, v: &Val<'_>, path: &str, kind: &str) -> Option<String> {
        let url = self.non_empty_string(v, path)?;
        // Its userinfo and query values are secrets: mask each where it is written.
        let span = v.span();
        if let Some(text) = self.source.get(span.clone()) {
            for secret in super::model::url_secrets(&url) {
                let mut from = 0;
                while let Some(at) = text[from..].find(&secret) {
                    let start = span.start + from + at;
                    self.secrets.push(start..start + secret.len());
                    from += at + secret.len();
                }
            }
        }
        let schemes: &[&str] = if kind == "http" {
            &["http://", "https://"]
        } else {
            &["ws://", "wss://"]
        };
        if !schemes.iter().any(|s| url.starts_with(s)) {
            let message = format!(
                "`{path}`: a `{kind}` transport needs a {} or {} URL, found `{url}`",
                schemes[0], schemes[1]
            );
            self.error(v.span(), message);
            return None;
        }
        Some(url)
    }

    /// `Some(None)` when absent, `Some(Some(x))` when valid, `None` when invalid.
    fn optional<'v, T>(
        &mut self,
        table: &'v DeTable<'_>,
        prefix: &str,
        key: &str,
        convert: impl FnOnce(&mut Self, &'v Val<'_>, &str) -> Option<T>,
    ) -> Option<Option<T>> {
        match find(table, key) {
            Some(v) => convert(self, v, &format!("{prefix}{key}")).map(Some),
            None => Some(None),
        }
    }

    fn settings(&mut self, v: &Val<'_>, path: &str) -> Option<Settings> {
        let table = self.table(v, path)?;
        self.unknown_keys(table, SETTINGS_KEYS, path);
        let prefix = format!("{path}.");
        let max = self.optional(table, &prefix, "max_payload_size", |w, v, p| {
            w.integer(v, p, 1, i128::from(u64::MAX))
        });
        let logging = self.optional(table, &prefix, "enable_logging", Self::boolean);
        Some(Settings {
            max_payload_size: max?.map(|n| n as u64),
            enable_logging: logging?.unwrap_or(false),
        })
    }
}

fn find<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<&'t Val<'i>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref() == key)
        .map(|(_, v)| v)
}

fn health_check(name: &str) -> HealthCheck {
    match name {
        "ping" => HealthCheck::Ping,
        "tools/list" => HealthCheck::ToolsList,
        _ => HealthCheck::Liveness,
    }
}

fn protocol(name: &str) -> Protocol {
    match name {
        "auto" => Protocol::Auto,
        "2025-06-18" => Protocol::V2025_06_18,
        "2026-07-28" => Protocol::V2026_07_28,
        _ => Protocol::V2025_11_25,
    }
}

fn jitter(name: &str) -> Jitter {
    match name {
        "full" => Jitter::Full,
        "equal" => Jitter::Equal,
        _ => Jitter::None,
    }
}
