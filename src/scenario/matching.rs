//! Which requests a fault targets and a `server_expect` entry counts: one rule for both.
//!
//! - `method`: the method, exactly. Unset: `tools/call`; for faults on the handshake
//!   (`never_handshake`), `initialize` and `server/discover`.
//! - `tool`: the tool of a `tools/call`, exactly. Unset: any.
//! - `arguments`: a partial match (see [`contains`]). Unset: any.

use serde_json::Value;

use super::model::{FaultAction, Matcher, ServerExpectation};
use crate::journal::Received;

/// What an unset `method` names.
const CALLS: &[&str] = &["tools/call"];
/// What an unset `method` names for a fault on the handshake.
const HANDSHAKE: &[&str] = &["initialize", "server/discover"];

/// Whether `got` is a request that `method` (or, unset, one of `unset`), `tool` and
/// `arguments` name.
fn request_matches(
    method: Option<&str>,
    unset: &[&str],
    tool: Option<&str>,
    arguments: Option<&Value>,
    got: &Received,
) -> bool {
    let method_ok = match method {
        Some(want) => want == got.method,
        None => unset.contains(&got.method.as_str()),
    };
    method_ok
        && tool.is_none_or(|want| Some(want) == got.tool.as_deref())
        && arguments.is_none_or(|want| got.arguments.as_ref().is_some_and(|a| contains(a, want)))
}

impl Matcher {
    /// Whether a fault with this matcher and `action` targets `got` (before counting positions).
    pub fn targets(&self, action: &FaultAction, got: &Received) -> bool {
        let unset = if action.on_handshake() {
            HANDSHAKE
        } else {
            CALLS
        };
        request_matches(
            self.method.as_deref(),
            unset,
            self.tool.as_deref(),
            self.arguments.as_ref(),
            got,
        )
    }
}

impl ServerExpectation {
    /// Whether `got` counts towards this expectation.
    pub fn counts(&self, got: &Received) -> bool {
        request_matches(
            self.method.as_deref(),
            CALLS,
            self.tool.as_deref(),
            self.arguments.as_ref(),
            got,
        )
    }

    /// The method it counts (`tools/call` when unset).
    pub fn method_or_default(&self) -> &str {
        self.method.as_deref().unwrap_or(CALLS[0])
    }
}

/// Whether `got` contains everything in `want` (objects partially, other values exactly).
pub fn contains(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| g.get(k).is_some_and(|gv| contains(gv, wv))),
        _ => got == want,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(tool: &str, arguments: Value) -> Received {
        Received {
            conn: 1,
            method: "tools/call".into(),
            tool: Some(tool.into()),
            arguments: Some(arguments),
        }
    }

    fn request(method: &str) -> Received {
        Received {
            conn: 1,
            method: method.into(),
            tool: None,
            arguments: None,
        }
    }

    #[test]
    fn faults_and_expectations_share_one_default() {
        let fault = Matcher::default();
        let expect = ServerExpectation::default();
        for got in [
            call("echo", json!({})),
            request("initialize"),
            request("ping"),
        ] {
            assert_eq!(
                fault.targets(&FaultAction::Hang, &got),
                expect.counts(&got),
                "{got:?}"
            );
        }
        assert!(expect.counts(&call("echo", json!({}))));
        assert!(
            !expect.counts(&request("ping")),
            "unset method means tools/call"
        );
    }

    #[test]
    fn handshake_faults_default_to_the_handshake() {
        let fault = Matcher::default();
        assert!(fault.targets(&FaultAction::NeverHandshake, &request("initialize")));
        assert!(fault.targets(&FaultAction::NeverHandshake, &request("server/discover")));
        assert!(!fault.targets(&FaultAction::NeverHandshake, &call("echo", json!({}))));
    }

    #[test]
    fn tool_and_arguments_match_partially() {
        let expect = ServerExpectation {
            tool: Some("echo".into()),
            arguments: Some(json!({"extra": {"username": "bob"}})),
            ..ServerExpectation::default()
        };
        assert!(expect.counts(&call(
            "echo",
            json!({"text": "x", "extra": {"username": "bob"}})
        )));
        assert!(!expect.counts(&call("echo", json!({"extra": {"username": "eve"}}))));
        assert!(!expect.counts(&call("joke", json!({"extra": {"username": "bob"}}))));
        let named = ServerExpectation {
            method: Some("notifications/cancelled".into()),
            ..ServerExpectation::default()
        };
        assert!(named.counts(&request("notifications/cancelled")));
    }
}
