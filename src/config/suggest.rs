//! "Did you mean …?" suggestions for unknown keys and values.

/// Returns the candidate nearest to `unknown`, if one is close enough to be a likely typo.
///
/// ```
/// use cattackle_harness::config::did_you_mean;
/// assert_eq!(did_you_mean("timout", ["timeout", "max_retries"]), Some("timeout"));
/// assert_eq!(did_you_mean("colour", ["timeout", "max_retries"]), None);
/// ```
pub fn did_you_mean<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(unknown, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
