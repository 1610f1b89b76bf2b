//! Which trials run: scenario tags, and CI shards with nextest's semantics.
//!
//! - `count:M/N`: the trials in name order, dealt round-robin: the i-th (from 0) goes to shard
//!   `i % N + 1`. Shards differ in size by at most one.
//! - `hash:M/N`: shard `xxh64(name) % N + 1`: a trial stays in its shard when others are added
//!   or removed, at the cost of less even shards.
//!
//! Either way the shards of 1..=N are disjoint and together hold every trial.

use std::fmt;
use std::str::FromStr;

use super::Trial;

/// How trials are split over CI machines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partition {
    /// Round-robin over the trials in name order.
    Count {
        /// This shard, from 1.
        shard: u64,
        /// How many shards.
        total: u64,
    },
    /// By a stable hash of the trial's name.
    Hash {
        /// This shard, from 1.
        shard: u64,
        /// How many shards.
        total: u64,
    },
}

/// Why `--partition` could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("--partition `{given}`: {why} (expected `count:M/N` or `hash:M/N`, 1 ≤ M ≤ N)")]
pub struct PartitionError {
    given: String,
    why: &'static str,
}

impl FromStr for Partition {
    type Err = PartitionError;

    fn from_str(given: &str) -> Result<Self, Self::Err> {
        let error = |why| PartitionError {
            given: given.to_owned(),
            why,
        };
        let (kind, shards) = given.split_once(':').ok_or_else(|| error("no `kind:`"))?;
        let (m, n) = shards.split_once('/').ok_or_else(|| error("no `M/N`"))?;
        let shard: u64 = m.trim().parse().map_err(|_| error("M is not a number"))?;
        let total: u64 = n.trim().parse().map_err(|_| error("N is not a number"))?;
        if shard == 0 || total == 0 || shard > total {
            return Err(error("M must be between 1 and N"));
        }
        match kind {
            "count" => Ok(Self::Count { shard, total }),
            "hash" => Ok(Self::Hash { shard, total }),
            _ => Err(error("unknown kind")),
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Count { shard, total } => write!(f, "count:{shard}/{total}"),
            Self::Hash { shard, total } => write!(f, "hash:{shard}/{total}"),
        }
    }
}

impl Partition {
    /// The trials of this shard, out of `trials` (any order: they are taken in name order).
    pub fn select(&self, mut trials: Vec<Trial>) -> Vec<Trial> {
        trials.sort_by_key(Trial::name);
        match *self {
            Self::Count { shard, total } => trials
                .into_iter()
                .enumerate()
                .filter(|(i, _)| *i as u64 % total + 1 == shard)
                .map(|(_, t)| t)
                .collect(),
            Self::Hash { shard, total } => trials
                .into_iter()
                .filter(|t| xxhash_rust::xxh64::xxh64(t.name().as_bytes(), 0) % total + 1 == shard)
                .collect(),
        }
    }
}

/// Whether the trial's scenario carries one of `tags` (any trial, when `tags` is empty).
pub fn has_tag(trial: &Trial, tags: &[String]) -> bool {
    tags.is_empty() || trial.file.scenario.tags.iter().any(|t| tags.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_read_as_nextest_writes_them() {
        assert_eq!(
            "count:1/2".parse(),
            Ok(Partition::Count { shard: 1, total: 2 })
        );
        assert_eq!(
            "hash:3/3".parse(),
            Ok(Partition::Hash { shard: 3, total: 3 })
        );
        for bad in [
            "count:0/2",
            "count:3/2",
            "hash:1",
            "round:1/2",
            "count:a/2",
            "",
        ] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
        assert_eq!(
            Partition::Hash { shard: 1, total: 4 }.to_string(),
            "hash:1/4"
        );
    }
}
