//! Durations as scenario files write them: `2s`, `500ms`, `1.5s`, `1m`, or a number of seconds.

use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration: `"500ms"`, `"2s"`, `"1.5s"`, `"1m"`, or a bare number of seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dur(pub Duration);

impl Dur {
    /// Parses `500ms`, `2s`, `1.5s`, `1m`, `0`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let value: f64 = number.parse().map_err(|_| {
            format!("invalid duration `{text}`: expected e.g. `500ms`, `2s`, `1.5s`")
        })?;
        let scale = match unit.trim() {
            "ms" => 0.001,
            "" | "s" => 1.0,
            "m" | "min" => 60.0,
            other => {
                return Err(format!(
                    "invalid duration unit `{other}` in `{text}`: use ms, s or m"
                ));
            }
        };
        Duration::try_from_secs_f64(value * scale)
            .map(Dur)
            .map_err(|_| format!("invalid duration `{text}`"))
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if !d.subsec_nanos().is_multiple_of(1_000_000) {
            write!(f, "{}us", d.as_micros())
        } else if d.as_millis().is_multiple_of(1000) {
            write!(f, "{}s", d.as_secs())
        } else if d.as_millis() < 1000 {
            write!(f, "{}ms", d.as_millis())
        } else {
            let millis = format!("{:03}", d.subsec_millis());
            write!(f, "{}.{}s", d.as_secs(), millis.trim_end_matches('0'))
        }
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(f64),
            Text(String),
        }
        match Raw::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom(
                "invalid duration: expected e.g. `500ms`, `2s`, `1.5s` or a number of seconds",
            )
        })? {
            Raw::Seconds(s) => Duration::try_from_secs_f64(s)
                .map(Dur)
                .map_err(|_| serde::de::Error::custom(format!("invalid duration `{s}`"))),
            Raw::Text(t) => Dur::parse(&t).map_err(serde::de::Error::custom),
        }
    }
}

impl JsonSchema for Dur {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration: `500ms`, `2s`, `1.5s`, `1m`, or a number of seconds.",
            "anyOf": [
                { "type": "number", "minimum": 0 },
                { "type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?\\s*(ms|s|m|min)?$" }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for (text, ms) in [
            ("500ms", 500),
            ("2s", 2000),
            ("1.5s", 1500),
            ("1m", 60_000),
            ("0", 0),
        ] {
            let d = Dur::parse(text).unwrap();
            assert_eq!(d.0, Duration::from_millis(ms), "{text}");
        }
        assert_eq!(Dur(Duration::from_millis(1500)).to_string(), "1.5s");
        assert_eq!(Dur(Duration::from_millis(250)).to_string(), "250ms");
        assert_eq!(Dur(Duration::from_millis(1507)).to_string(), "1.507s");
        assert_eq!(Dur(Duration::from_millis(2050)).to_string(), "2.05s");
        assert_eq!(Dur(Duration::from_secs(3)).to_string(), "3s");
        assert!(Dur::parse("2 hours").is_err());
    }
}
