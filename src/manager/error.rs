//! What can go wrong with a call, and whether it may have reached the cattackle.

use std::fmt;
use std::time::Duration;

/// The phase of a call that timed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Spawn or connect (`connect_timeout`).
    Connect,
    /// The MCP handshake on a connection that was made (`connect_timeout`).
    Handshake,
    /// The `tools/call` itself (`timeout`).
    Call,
}

/// A stable, snapshot-friendly name for each kind of [`CattackleError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`CattackleError::UnknownCommand`]
    UnknownCommand,
    /// [`CattackleError::NotSent`]
    NotSent,
    /// [`CattackleError::TimedOut`]
    TimedOut,
    /// [`CattackleError::TransportClosed`]
    TransportClosed,
    /// [`CattackleError::JsonRpc`]
    JsonRpc,
    /// [`CattackleError::Validation`]
    Validation,
    /// [`CattackleError::Tool`]
    Tool,
    /// [`CattackleError::InvalidJson`]
    InvalidJson,
    /// [`CattackleError::InvalidResponse`]
    InvalidResponse,
    /// [`CattackleError::PayloadTooLarge`]
    PayloadTooLarge,
    /// [`CattackleError::Exhausted`]
    Exhausted,
    /// [`CattackleError::Unavailable`] because the breaker is open.
    CircuitOpen,
    /// [`CattackleError::Unavailable`] because `max_in_flight` and `max_pending` are taken.
    BulkheadFull,
    /// [`CattackleError::Unavailable`] because the retry budget is empty.
    RetryBudgetExhausted,
    /// [`CattackleError::DeadlineExceeded`]
    DeadlineExceeded,
    /// [`CattackleError::OutcomeUnknown`]
    OutcomeUnknown,
    /// [`CattackleError::HttpStatus`]
    HttpStatus,
    /// [`CattackleError::Misconfigured`]
    Misconfigured,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 18] = [
        Self::UnknownCommand,
        Self::NotSent,
        Self::TimedOut,
        Self::TransportClosed,
        Self::JsonRpc,
        Self::Validation,
        Self::Tool,
        Self::InvalidJson,
        Self::InvalidResponse,
        Self::PayloadTooLarge,
        Self::Exhausted,
        Self::CircuitOpen,
        Self::BulkheadFull,
        Self::RetryBudgetExhausted,
        Self::DeadlineExceeded,
        Self::OutcomeUnknown,
        Self::HttpStatus,
        Self::Misconfigured,
    ];

    /// `snake_case` name, as used in scenarios and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownCommand => "unknown_command",
            Self::NotSent => "not_sent",
            Self::TimedOut => "timed_out",
            Self::TransportClosed => "transport_closed",
            Self::JsonRpc => "jsonrpc",
            Self::Validation => "validation",
            Self::Tool => "tool_error",
            Self::InvalidJson => "invalid_json",
            Self::InvalidResponse => "invalid_response",
            Self::PayloadTooLarge => "payload_too_large",
            Self::Exhausted => "exhausted",
            Self::CircuitOpen => "circuit_open",
            Self::BulkheadFull => "bulkhead_full",
            Self::RetryBudgetExhausted => "retry_budget_exhausted",
            Self::DeadlineExceeded => "deadline_exceeded",
            Self::OutcomeUnknown => "outcome_unknown",
            Self::HttpStatus => "http_status",
            Self::Misconfigured => "misconfigured",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a cattackle is unavailable (see [`CattackleError::Unavailable`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unavailability {
    /// Its circuit breaker is open: it failed too often, and is left alone for a while.
    CircuitOpen,
    /// `max_in_flight` calls are in flight and `max_pending` are waiting.
    BulkheadFull {
        /// `max_in_flight`.
        in_flight: u32,
        /// `max_pending`.
        pending: u32,
    },
    /// The call would retry, but the cattackle's retry budget is empty: its calls have been
    /// retrying far more than they succeed.
    RetryBudgetEmpty,
}

/// Why a call failed. `Display` gives the original core's messages where its contract defines
/// them (validation, invalid JSON, invalid format, exhaustion).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CattackleError {
    /// The command is not declared in the cattackle's `[cattackle.commands]`. Nothing was sent.
    #[error("cattackle '{cattackle}' has no command `{command}` (known: {})", known.join(", "))]
    UnknownCommand {
        /// The cattackle.
        cattackle: String,
        /// What was asked for.
        command: String,
        /// What it declares.
        known: Vec<String>,
    },
    /// The session could not be started (spawn, connect or handshake failed). Nothing was sent.
    #[error(
        "cattackle '{cattackle}' could not be started: {reason}{}",
        context_suffix(context)
    )]
    NotSent {
        /// The cattackle.
        cattackle: String,
        /// Why.
        reason: String,
        /// Such as the tail of the child's stderr.
        context: Option<String>,
    },
    /// The configuration asks for what can never work (a `cwd` that does not exist, a NUL
    /// byte in `command`, `args` or `env`, a header value that cannot be sent). Nothing was
    /// sent, and retrying cannot help: fix the `cattackle.toml`.
    #[error("cattackle '{cattackle}' is misconfigured: {reason}")]
    Misconfigured {
        /// The cattackle.
        cattackle: String,
        /// What is wrong, naming the key.
        reason: String,
    },
    /// A phase did not finish in time.
    #[error("{}", timed_out(cattackle, *phase, *after, context))]
    TimedOut {
        /// The cattackle.
        cattackle: String,
        /// Which phase.
        phase: Phase,
        /// The bound that elapsed.
        after: Duration,
        /// Such as the tail of the child's stderr, for a start that timed out.
        context: Option<String>,
    },
    /// The connection ended while the call was in flight.
    #[error("connection to cattackle '{cattackle}' closed during the call: {detail}")]
    TransportClosed {
        /// The cattackle.
        cattackle: String,
        /// What the transport said.
        detail: String,
    },
    /// An HTTP cattackle refused the request with 429 or a 5xx status and no JSON-RPC error in
    /// the body. 429 and 503 say the request was not processed; other 5xx may have run it.
    #[error("{}", http_status(cattackle, *status, *retry_after))]
    HttpStatus {
        /// The cattackle.
        cattackle: String,
        /// The HTTP status.
        status: u16,
        /// The answer's `Retry-After`, as a wait from when it came, if it had a valid one.
        retry_after: Option<Duration>,
    },
    /// The cattackle answered with a JSON-RPC error.
    #[error("cattackle '{cattackle}' returned JSON-RPC error {code}: {message}")]
    JsonRpc {
        /// The cattackle.
        cattackle: String,
        /// JSON-RPC error code.
        code: i32,
        /// JSON-RPC error message.
        message: String,
    },
    /// The cattackle rejected its input (the original's `CattackleValidationError`).
    #[error("Cattackle '{cattackle}' input validation failed: {text}")]
    Validation {
        /// The cattackle.
        cattackle: String,
        /// The cattackle's text.
        text: String,
    },
    /// The tool failed: `isError: true` with a plain-text message, as every MCP SDK reports a
    /// tool exception or an unknown tool. Not retried (the original did not retry it either).
    #[error("cattackle '{cattackle}' reported a tool error: {text}")]
    Tool {
        /// The cattackle.
        cattackle: String,
        /// The server's text (cut, secrets redacted).
        text: String,
    },
    /// The first content block is not JSON (the original's `CattackleResponseError`).
    #[error("Cattackle '{cattackle}' returned invalid JSON response: {detail}")]
    InvalidJson {
        /// The cattackle.
        cattackle: String,
        /// The parser's message.
        detail: String,
    },
    /// The response is JSON of the wrong shape, or not text.
    #[error("Invalid response format from cattackle '{cattackle}': {detail}")]
    InvalidResponse {
        /// The cattackle.
        cattackle: String,
        /// What is wrong.
        detail: String,
    },
    /// The serialized arguments exceed `settings.max_payload_size`. Nothing was sent.
    #[error(
        "payload for cattackle '{cattackle}' is {size} bytes, over its max_payload_size of {limit} bytes"
    )]
    PayloadTooLarge {
        /// The cattackle.
        cattackle: String,
        /// Serialized size of the arguments.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The cattackle is unavailable (breaker open, bulkhead full): the call was rejected at
    /// once, with nothing sent. A chat core can show `fallback` to its user.
    #[error("{}", unavailable(cattackle, *why, *retry_after, last.as_deref()))]
    Unavailable {
        /// The cattackle.
        cattackle: String,
        /// Why.
        why: Unavailability,
        /// When to try again (the breaker's next probe), if known.
        retry_after: Option<Duration>,
        /// The cattackle's `fallback` text, if configured.
        fallback: Option<String>,
        /// The failure the call would have retried (an empty retry budget).
        #[source]
        last: Option<Box<CattackleError>>,
    },
    /// The call's `deadline` passed before an attempt succeeded: no attempt starts past it.
    #[error(
        "cattackle '{cattackle}' did not answer within the call's deadline of {}s ({attempts} attempt(s)){}",
        python_secs(*deadline),
        last.as_ref().map(|l| format!("; the last failed: {l}")).unwrap_or_default()
    )]
    DeadlineExceeded {
        /// The cattackle.
        cattackle: String,
        /// The configured deadline.
        deadline: Duration,
        /// How many attempts were made.
        attempts: u32,
        /// The error of the last attempt, if one failed before the deadline.
        #[source]
        last: Option<Box<CattackleError>>,
    },
    /// A command marked `idempotent = false` failed after its request was sent: whether it ran
    /// is unknown, so it was not retried.
    #[error(
        "cattackle '{cattackle}': the outcome of `{command}` is unknown (its request was sent, then: {last}); not retried, as the command is marked idempotent = false"
    )]
    OutcomeUnknown {
        /// The cattackle.
        cattackle: String,
        /// The command.
        command: String,
        /// What happened after the request was sent.
        #[source]
        last: Box<CattackleError>,
    },
    /// Every attempt failed with a retryable error.
    #[error("{}", exhausted(cattackle, *timeout, *max_retries, last))]
    Exhausted {
        /// The cattackle.
        cattackle: String,
        /// How many attempts were made.
        attempts: u32,
        /// The configured per-attempt timeout.
        timeout: Duration,
        /// The configured retry count.
        max_retries: u32,
        /// Whether any attempt may have reached the cattackle.
        reached: bool,
        /// The error of the last attempt.
        #[source]
        last: Box<CattackleError>,
        /// The cattackle's `fallback` text, when no attempt reached it (it could not be
        /// started or reached: unavailable).
        fallback: Option<String>,
    },
}

impl CattackleError {
    /// The kind, as a stable name.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::UnknownCommand { .. } => ErrorKind::UnknownCommand,
            Self::NotSent { .. } => ErrorKind::NotSent,
            Self::TimedOut { .. } => ErrorKind::TimedOut,
            Self::TransportClosed { .. } => ErrorKind::TransportClosed,
            Self::JsonRpc { .. } => ErrorKind::JsonRpc,
            Self::Validation { .. } => ErrorKind::Validation,
            Self::Tool { .. } => ErrorKind::Tool,
            Self::InvalidJson { .. } => ErrorKind::InvalidJson,
            Self::InvalidResponse { .. } => ErrorKind::InvalidResponse,
            Self::PayloadTooLarge { .. } => ErrorKind::PayloadTooLarge,
            Self::Exhausted { .. } => ErrorKind::Exhausted,
            Self::Unavailable {
                why: Unavailability::CircuitOpen,
                ..
            } => ErrorKind::CircuitOpen,
            Self::Unavailable {
                why: Unavailability::BulkheadFull { .. },
                ..
            } => ErrorKind::BulkheadFull,
            Self::Unavailable {
                why: Unavailability::RetryBudgetEmpty,
                ..
            } => ErrorKind::RetryBudgetExhausted,
            Self::DeadlineExceeded { .. } => ErrorKind::DeadlineExceeded,
            Self::HttpStatus { .. } => ErrorKind::HttpStatus,
            Self::OutcomeUnknown { .. } => ErrorKind::OutcomeUnknown,
            Self::Misconfigured { .. } => ErrorKind::Misconfigured,
        }
    }

    /// The text to show a user instead of an answer, when the cattackle is unavailable (breaker
    /// open, bulkhead full, or retries exhausted without reaching it) and configures a
    /// `fallback`.
    pub fn fallback(&self) -> Option<&str> {
        match self {
            Self::Unavailable { fallback, .. } | Self::Exhausted { fallback, .. } => {
                fallback.as_deref()
            }
            _ => None,
        }
    }

    /// Whether the server's health is in question: a failure the circuit breaker counts
    /// (transport failures, timeouts, failed starts, JSON-RPC internal and server errors).
    /// Answers that are wrong or refuse the input say the server is up, and do not count.
    pub fn is_health_failure(&self) -> bool {
        match self {
            Self::NotSent { .. }
            | Self::TimedOut { .. }
            | Self::TransportClosed { .. }
            | Self::HttpStatus { .. } => true,
            Self::JsonRpc { code, .. } => *code == -32603 || (-32099..=-32000).contains(code),
            _ => false,
        }
    }

    /// Whether the contract retries this error: timeouts, start failures, closed transports and
    /// JSON-RPC errors are retried; validation and response errors are not.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::NotSent { .. }
                | Self::TimedOut { .. }
                | Self::TransportClosed { .. }
                | Self::HttpStatus { .. }
                | Self::JsonRpc { .. }
        )
    }

    /// How long the cattackle asked to be left alone before the next attempt (an HTTP
    /// `Retry-After`), if it did.
    pub fn retry_after_hint(&self) -> Option<Duration> {
        match self {
            Self::HttpStatus { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the request may have reached the cattackle (and so may have had effects).
    pub fn may_have_reached(&self) -> bool {
        match self {
            Self::UnknownCommand { .. }
            | Self::NotSent { .. }
            | Self::PayloadTooLarge { .. }
            | Self::Misconfigured { .. } => false,
            Self::TimedOut { phase, .. } => *phase == Phase::Call,
            // "Too many requests" and "unavailable" refuse the request before it runs.
            Self::HttpStatus { status, .. } => !matches!(status, 429 | 503),
            Self::Exhausted { reached, .. } => *reached,
            Self::Unavailable { last, .. } => last.as_ref().is_some_and(|l| l.may_have_reached()),
            Self::DeadlineExceeded { last, .. } => {
                last.as_ref().is_some_and(|l| l.may_have_reached())
            }
            _ => true,
        }
    }

    /// The message in one line: without the context (such as a child's stderr tail) that
    /// `Display` appends, for per-attempt log lines.
    pub fn summary(&self) -> String {
        let text = self.to_string();
        match text.split_once('\n') {
            Some((first, _)) => first.to_owned(),
            None => text,
        }
    }
}

/// Seconds as Python prints a float: `30.0`, `0.5`.
pub(crate) fn python_secs(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.1}")
    } else {
        format!("{secs}")
    }
}

fn context_suffix(context: &Option<String>) -> String {
    context
        .as_ref()
        .map_or_else(String::new, |c| format!("\n{c}"))
}

fn timed_out(cattackle: &str, phase: Phase, after: Duration, context: &Option<String>) -> String {
    let secs = python_secs(after);
    let what = match phase {
        Phase::Connect => format!(
            "cattackle '{cattackle}' did not start within {secs}s: could not spawn or connect within connect_timeout"
        ),
        Phase::Handshake => format!(
            "cattackle '{cattackle}' did not start within {secs}s: no MCP handshake within connect_timeout"
        ),
        Phase::Call => {
            format!("cattackle '{cattackle}' did not answer `tools/call` within {secs}s")
        }
    };
    what + &context_suffix(context)
}

fn http_status(cattackle: &str, status: u16, retry_after: Option<Duration>) -> String {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map_or(String::new(), |r| format!(" {r}"));
    let after = retry_after.map_or(String::new(), |d| {
        format!(" with Retry-After {}s", python_secs(d))
    });
    format!(
        "cattackle '{cattackle}' answered HTTP {status}{reason}{after} (no JSON-RPC error in the body)"
    )
}

fn unavailable(
    cattackle: &str,
    why: Unavailability,
    retry_after: Option<Duration>,
    last: Option<&CattackleError>,
) -> String {
    let why = match why {
        Unavailability::CircuitOpen => {
            "its circuit breaker is open after repeated failures, so nothing was sent".to_owned()
        }
        Unavailability::BulkheadFull { in_flight, pending } => format!(
            "{in_flight} call(s) in flight and {pending} waiting (its max_in_flight and max_pending)"
        ),
        Unavailability::RetryBudgetEmpty => format!(
            "its retry budget is empty, so the call was not retried after: {}",
            last.map_or("a failure".to_owned(), CattackleError::summary)
        ),
    };
    let when = retry_after.map_or(String::new(), |d| {
        format!("; try again in {}s", python_secs(d))
    });
    format!("cattackle '{cattackle}' is unavailable: {why}{when}")
}

fn exhausted(
    cattackle: &str,
    timeout: Duration,
    max_retries: u32,
    last: &CattackleError,
) -> String {
    match last {
        CattackleError::TimedOut {
            phase: Phase::Call, ..
        } => format!(
            "Cattackle '{cattackle}' timed out after {}s (retries: {max_retries})",
            python_secs(timeout)
        ),
        CattackleError::TimedOut {
            phase,
            after,
            context,
            ..
        } => {
            let what = match phase {
                Phase::Connect => "could not spawn or connect within connect_timeout",
                _ => "no MCP handshake within connect_timeout",
            };
            format!(
                "Cattackle '{cattackle}' timed out after {}s (retries: {max_retries}): {what}{}",
                python_secs(*after),
                context_suffix(context)
            )
        }
        other => format!("Failed to execute cattackle '{cattackle}': {other}"),
    }
}

/// How much of a server's text an error quotes.
const QUOTE_CHARS: usize = 200;

/// `text` as an error shows it: every secret value of the configuration replaced by
/// `[redacted]` (before the cut, so that no start of a secret is left), cut to about 200
/// characters, with a note of the full size when cut.
pub(crate) fn shown(text: &str, secrets: &[String]) -> String {
    crate::util::cut(&redacted(text, secrets), QUOTE_CHARS)
}

/// `text` with every secret value replaced by `[redacted]`: for messages built from what a
/// transport said (reqwest quotes the whole URL, query string included).
pub(crate) fn redacted(text: &str, secrets: &[String]) -> String {
    crate::util::redact(text, secrets)
}

/// [`shown`], in double quotes with JSON escapes (for text that may be anything).
pub(crate) fn quote(text: &str, secrets: &[String]) -> String {
    serde_json::to_string(&shown(text, secrets)).unwrap_or_default()
}

/// An error and its sources in one line, each source added only when it says something new:
/// reqwest hides "connection refused" two levels down.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error
        .source()
        .or_else(|| crate::transport::unlinked_source(error));
    while let Some(e) = source {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source().or_else(|| crate::transport::unlinked_source(e));
    }
    text
}

/// A handshake error in one line, with the transport's own cause (rmcp does not link it as a
/// source) and without rmcp's transport type name.
pub(crate) fn describe_init(error: &rmcp::service::ClientInitializeError) -> String {
    match error {
        rmcp::service::ClientInitializeError::TransportError { error, context } => {
            format!("{context}: {}", chain(&*error.error))
        }
        other => chain(other),
    }
}

/// A request error in one line, with the transport's own cause.
pub(crate) fn describe_service(error: &rmcp::service::ServiceError) -> String {
    match error {
        rmcp::service::ServiceError::TransportSend(error) => chain(&*error.error),
        other => chain(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_print_like_python_floats() {
        assert_eq!(python_secs(Duration::from_secs(30)), "30.0");
        assert_eq!(python_secs(Duration::from_millis(500)), "0.5");
        assert_eq!(python_secs(Duration::from_millis(1250)), "1.25");
    }
}
