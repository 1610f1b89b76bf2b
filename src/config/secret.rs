//! A string map whose values are secrets (environment values, HTTP headers).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

/// A `key → value` map whose values never appear in `Debug` output, logs or reports.
///
/// Environment values and HTTP headers routinely carry API keys: only the keys are shown.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct SecretMap(BTreeMap<String, String>);

impl SecretMap {
    /// Wraps a map.
    pub fn new(map: BTreeMap<String, String>) -> Self {
        Self(map)
    }
}

impl Deref for SecretMap {
    type Target = BTreeMap<String, String>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FromIterator<(String, String)> for SecretMap {
    fn from_iter<T: IntoIterator<Item = (String, String)>>(iter: T) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl fmt::Debug for SecretMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "<redacted>")))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_keys_but_never_values() {
        let map: SecretMap = [("API_KEY".to_owned(), "hunter2".to_owned())]
            .into_iter()
            .collect();
        let shown = format!("{map:?}");
        assert!(shown.contains("API_KEY"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
