//! The delays between attempts, as a pure iterator.

use std::time::Duration;

use crate::config::{BackoffConfig, Jitter};

/// Delays after failed attempts 1, 2, 3, …: `min(base * factor^(n-1), max)`, then jittered.
///
/// With the defaults this is the original's 1 s, 2 s, 4 s, …, capped at 30 s.
///
/// ```
/// use std::time::Duration;
/// use cattackle_harness::config::BackoffConfig;
/// use cattackle_harness::manager::Backoff;
/// let delays: Vec<Duration> = Backoff::new(&BackoffConfig::default()).take(3).collect();
/// assert_eq!(delays, [1, 2, 4].map(Duration::from_secs));
/// ```
#[derive(Clone, Debug)]
pub struct Backoff {
    config: BackoffConfig,
    rng: fastrand::Rng,
    failed: i32,
}

/// Spreads per-call seeds over the seed space (the golden-ratio increment of SplitMix64).
const CALL_SEED_STEP: u64 = 0x9E37_79B9_7F4A_7C15;

impl Backoff {
    /// The schedule of one call: jitter draws from `config.seed` plus `call` (the call's number
    /// within the manager, from 0), so runs are reproducible and concurrent calls that fail
    /// together do not retry at the same instant. Call 0 draws from the seed itself.
    pub fn for_call(config: &BackoffConfig, call: u64) -> Self {
        let mut config = config.clone();
        config.seed = config
            .seed
            .map(|seed| seed.wrapping_add(call.wrapping_mul(CALL_SEED_STEP)));
        Self::new(&config)
    }

    /// A schedule; jitter draws from `config.seed`, or a random seed when there is none.
    pub fn new(config: &BackoffConfig) -> Self {
        let rng = config
            .seed
            .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        Self {
            config: config.clone(),
            rng,
            failed: 0,
        }
    }
}

impl Iterator for Backoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let exponent = self.failed;
        self.failed = self.failed.saturating_add(1);
        let max = self.config.max.as_secs_f64();
        let raw = self.config.base.as_secs_f64() * self.config.factor.powi(exponent);
        let capped = if raw.is_finite() { raw.min(max) } else { max };
        let jittered = match self.config.jitter {
            Jitter::None => capped,
            Jitter::Full => self.rng.f64() * capped,
            Jitter::Equal => capped / 2.0 + self.rng.f64() * capped / 2.0,
        };
        Some(Duration::try_from_secs_f64(jittered).unwrap_or(self.config.max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(f: impl FnOnce(&mut BackoffConfig)) -> BackoffConfig {
        let mut c = BackoffConfig::default();
        f(&mut c);
        c
    }

    fn secs(b: Backoff, n: usize) -> Vec<f64> {
        b.take(n).map(|d| d.as_secs_f64()).collect()
    }

    #[test]
    fn default_schedule_is_the_originals() {
        assert_eq!(
            secs(Backoff::new(&BackoffConfig::default()), 6),
            [1.0, 2.0, 4.0, 8.0, 16.0, 30.0]
        );
    }

    #[test]
    fn cap_and_factor_apply() {
        let c = config(|c| {
            c.base = Duration::from_millis(100);
            c.factor = 3.0;
            c.max = Duration::from_millis(500);
        });
        let got = secs(Backoff::new(&c), 4);
        assert_eq!(got.len(), 4);
        for (g, want) in got.iter().zip([0.1, 0.3, 0.5, 0.5]) {
            assert!((g - want).abs() < 1e-9, "{got:?}");
        }
    }

    #[test]
    fn each_call_draws_its_own_jitter_from_the_seed() {
        let c = config(|c| {
            c.jitter = Jitter::Full;
            c.seed = Some(42);
        });
        let first = secs(Backoff::for_call(&c, 0), 3);
        assert_eq!(
            first,
            secs(Backoff::new(&c), 3),
            "call 0 is the seed's own schedule"
        );
        let second = secs(Backoff::for_call(&c, 1), 3);
        assert_ne!(first, second, "another call, another schedule");
        assert_eq!(
            second,
            secs(Backoff::for_call(&c, 1), 3),
            "and reproducible"
        );
    }

    #[test]
    fn huge_exponents_saturate_at_the_cap() {
        let mut b = Backoff::new(&BackoffConfig::default());
        let last = b.nth(5000).unwrap();
        assert_eq!(last, Duration::from_secs(30));
    }

    #[test]
    fn seeded_jitter_is_reproducible_and_in_range() {
        for (jitter, low) in [(Jitter::Full, 0.0), (Jitter::Equal, 0.5)] {
            let c = config(|c| {
                c.jitter = jitter;
                c.seed = Some(42);
            });
            let a = secs(Backoff::new(&c), 5);
            assert_eq!(a, secs(Backoff::new(&c), 5), "same seed, same schedule");
            for (i, d) in a.iter().enumerate() {
                let nominal = 2f64.powi(i as i32);
                assert!(*d >= low * nominal && *d <= nominal, "{jitter:?} {a:?}");
            }
            let other = config(|c| {
                c.jitter = jitter;
                c.seed = Some(43);
            });
            assert_ne!(
                a,
                secs(Backoff::new(&other), 5),
                "another seed, another schedule"
            );
        }
    }
}
