//! The arguments of a `tools/call`: the router's payload plus `extra.username`.

use serde_json::{Map, Value};

/// The username injected when the caller gives none, as the original does.
pub const DEFAULT_USERNAME: &str = "undefined";

/// What a command is called with: `{"text": …, "accumulated_params": […], …}`; the manager adds
/// `extra.username` on every attempt.
///
/// ```
/// use cattackle_harness::manager::Payload;
/// let payload = Payload::text("hello").with_accumulated_params(["older"]).with_username("ann");
/// let args = payload.arguments();
/// assert_eq!(args["text"], "hello");
/// assert_eq!(args["accumulated_params"][0], "older");
/// assert_eq!(args["extra"]["username"], "ann");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Payload {
    fields: Map<String, Value>,
    username: Option<String>,
}

/// A payload that is not a JSON object.
#[derive(Debug, thiserror::Error)]
#[error("a payload must be a JSON object, found {0}")]
pub struct PayloadError(&'static str);

impl Payload {
    /// `{"text": text}`.
    pub fn text(text: impl Into<String>) -> Self {
        let mut fields = Map::new();
        fields.insert("text".to_owned(), Value::String(text.into()));
        Self {
            fields,
            username: None,
        }
    }

    /// Any JSON object; `extra.username` in it is kept unless [`Self::with_username`] overrides it.
    pub fn from_value(value: Value) -> Result<Self, PayloadError> {
        match value {
            Value::Object(fields) => Ok(Self {
                fields,
                username: None,
            }),
            other => Err(PayloadError(json_type(&other))),
        }
    }

    /// Sets `accumulated_params`.
    pub fn with_accumulated_params<S: Into<String>>(
        mut self,
        params: impl IntoIterator<Item = S>,
    ) -> Self {
        let params = params
            .into_iter()
            .map(|p| Value::String(p.into()))
            .collect();
        self.fields
            .insert("accumulated_params".to_owned(), Value::Array(params));
        self
    }

    /// Sets the username injected as `extra.username`.
    pub fn with_username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Sets any top-level field.
    pub fn with_field(mut self, key: impl Into<String>, value: Value) -> Self {
        self.fields.insert(key.into(), value);
        self
    }

    /// The `tools/call` arguments: the fields, with `extra.username` set (to the given username,
    /// else the payload's own, else `"undefined"`).
    pub fn arguments(&self) -> Map<String, Value> {
        let mut args = self.fields.clone();
        let extra = args
            .entry("extra")
            .or_insert_with(|| Value::Object(Map::new()));
        if !extra.is_object() {
            *extra = Value::Object(Map::new());
        }
        if let Value::Object(extra) = extra {
            match &self.username {
                Some(user) => {
                    extra.insert("username".to_owned(), Value::String(user.clone()));
                }
                None => {
                    extra
                        .entry("username")
                        .or_insert_with(|| Value::String(DEFAULT_USERNAME.to_owned()));
                }
            }
        }
        args
    }
}

pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn username_defaults_to_undefined_and_keeps_other_extra_keys() {
        let payload = Payload::from_value(json!({"text": "t", "extra": {"chat_id": 7}})).unwrap();
        assert_eq!(
            Value::Object(payload.arguments()),
            json!({"text": "t", "extra": {"chat_id": 7, "username": "undefined"}})
        );
    }

    #[test]
    fn given_username_wins_over_the_payloads_own() {
        let payload = Payload::from_value(json!({"extra": {"username": "old"}}))
            .unwrap()
            .with_username("new");
        assert_eq!(payload.arguments()["extra"]["username"], "new");
    }

    #[test]
    fn non_object_payload_is_rejected() {
        let err = Payload::from_value(json!([1])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a payload must be a JSON object, found an array"
        );
    }
}
