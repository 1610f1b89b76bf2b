//! What a trial produced: how each call ended ([`Outcome`]) and each expectation that did not
//! hold ([`Failure`]).

use std::fmt;

use serde_json::Value;

use crate::journal::Redactor;
use crate::manager::{CattackleError, CattackleResponse};

/// One expectation that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Where: `steps[2]`, `server_expect[0]`, `setup`.
    pub at: String,
    /// What differs.
    pub message: String,
}

/// How a call ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A cattackle response.
    Ok(CattackleResponse),
    /// A raw MCP result (`raw` calls).
    Raw(Value),
    /// An error.
    Err {
        /// [`crate::manager::ErrorKind`] name.
        kind: String,
        /// The message.
        message: String,
        /// For `exhausted`: the last attempt's kind.
        last: Option<String>,
        /// An unavailable cattackle's `fallback` text.
        fallback: Option<String>,
    },
    /// The call itself was invalid (a payload that is not an object).
    Invalid(String),
}

impl Outcome {
    pub(crate) fn from_error(e: &CattackleError) -> Self {
        let last = match e {
            CattackleError::Exhausted { last, .. }
            | CattackleError::OutcomeUnknown { last, .. } => Some(last.kind().as_str().to_owned()),
            CattackleError::DeadlineExceeded { last, .. }
            | CattackleError::Unavailable { last, .. } => {
                last.as_ref().map(|l| l.kind().as_str().to_owned())
            }
            _ => None,
        };
        Self::Err {
            kind: e.kind().as_str().to_owned(),
            message: e.to_string(),
            last,
            fallback: e.fallback().map(str::to_owned),
        }
    }

    pub(crate) fn redacted(self, redactor: &Redactor) -> Self {
        match self {
            Self::Err {
                kind,
                message,
                last,
                fallback,
            } => Self::Err {
                kind,
                message: redactor.apply(&message),
                last,
                fallback,
            },
            Self::Invalid(m) => Self::Invalid(redactor.apply(&m)),
            other => other,
        }
    }

    /// The outcome without details that vary between real runs (error messages).
    pub(crate) fn stable(&self) -> String {
        match self {
            Self::Err { kind, last, .. } => match last {
                Some(last) => format!("error {kind} (last: {last})"),
                None => format!("error {kind}"),
            },
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok(r) => write!(
                f,
                "ok {}",
                serde_json::json!({ "data": r.data, "error": r.error, "is_error": r.is_error })
            ),
            Self::Raw(v) => write!(f, "raw {v}"),
            Self::Err {
                kind,
                message,
                fallback: Some(fallback),
                ..
            } => write!(f, "error {kind}: {message} (fallback: {fallback:?})"),
            Self::Err { kind, message, .. } => write!(f, "error {kind}: {message}"),
            Self::Invalid(m) => write!(f, "invalid call: {m}"),
        }
    }
}
