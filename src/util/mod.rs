//! Small helpers every layer uses.

#[cfg(feature = "harness")]
mod dur;
#[cfg(feature = "harness")]
mod panics;
pub(crate) mod text;

#[cfg(feature = "harness")]
pub use dur::Dur;
#[cfg(feature = "harness")]
pub(crate) use panics::block_on_caught;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Locks `mutex`, tolerating a panic in another holder: every value guarded here stays valid
/// between statements, so a poisoned lock is still safe to use.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The value of `mutex`, tolerating a panic in another holder (see [`lock`]).
#[cfg(feature = "harness")]
pub(crate) fn into_inner<T>(mutex: Mutex<T>) -> T {
    mutex.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// `mutex`'s value through exclusive access, tolerating a panic in another holder.
pub(crate) fn get_mut<T>(mutex: &mut Mutex<T>) -> &mut T {
    mutex.get_mut().unwrap_or_else(|e| e.into_inner())
}

/// About 30 years: what a deadline too far to represent becomes ("no bound").
const FOREVER: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// `now + after`, saturated: a duration too large for a deadline means no bound at all.
pub(crate) fn deadline_after(after: Duration) -> tokio::time::Instant {
    saturating_add(tokio::time::Instant::now(), after)
}

/// `start + after`, saturated (about 30 years at most) instead of panicking.
pub(crate) fn saturating_add(start: tokio::time::Instant, after: Duration) -> tokio::time::Instant {
    start
        .checked_add(after.min(FOREVER))
        .or_else(|| start.checked_add(FOREVER))
        .unwrap_or(start)
}

/// Drops the tasks of `set` that have ended: a set that lives as long as a server would
/// otherwise keep every finished connection's or answer's task (the soak found the relays
/// growing by about half a KiB a call).
#[cfg(feature = "harness")]
pub(crate) fn reap<T: 'static>(set: &mut tokio::task::JoinSet<T>) {
    while set.try_join_next().is_some() {}
}

/// `text` with every (non-empty) secret in it replaced by `[redacted]`.
pub(crate) fn redact(text: &str, secrets: &[String]) -> String {
    let mut redacted = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        redacted = redacted.replace(secret, "[redacted]");
    }
    redacted
}

/// At most `max` characters of `text`, with a note of its full size when cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((at, _)) => format!("{}… ({} bytes in all)", &text[..at], text.len()),
    }
}

/// At most the last `max` characters of `text` (where a traceback keeps its cause), with a
/// note of its full size when cut.
#[cfg(feature = "harness")]
pub(crate) fn cut_keeping_end(text: &str, max: usize) -> String {
    let chars = text.chars().count();
    if chars <= max {
        return text.to_owned();
    }
    let at = text.char_indices().nth(chars - max).map_or(0, |(at, _)| at);
    format!(
        "({} bytes in all, the end shown) …{}",
        text.len(),
        &text[at..]
    )
}

/// Merges `from` into `into`: objects key by key, recursively; anything else replaces.
#[cfg(feature = "harness")]
pub(crate) fn merge_json(into: &mut serde_json::Value, from: &serde_json::Value) {
    match (into, from) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                merge_json(a.entry(k.clone()).or_insert(serde_json::Value::Null), v);
            }
        }
        (into, from) => *into = from.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_whole_characters_and_says_how_much_there_was() {
        assert_eq!(cut("héllo", 10), "héllo");
        assert_eq!(cut("héllo", 2), "hé… (6 bytes in all)");
        assert_eq!(cut_keeping_end("héllo", 10), "héllo");
        assert_eq!(
            cut_keeping_end("héllo", 4),
            "(6 bytes in all, the end shown) …éllo"
        );
    }

    #[test]
    fn huge_durations_saturate_instead_of_panicking() {
        let now = tokio::time::Instant::now();
        let far = saturating_add(now, Duration::MAX);
        assert!(far > now + Duration::from_secs(365 * 24 * 3600));
        assert!(deadline_after(Duration::MAX) > now);
    }
}
