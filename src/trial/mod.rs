//! Trials, defined once for every runner: `cattackle test`, `cargo test --test scenarios`,
//! `cargo bench --bench scenarios` (and `cattackle check` to come).
//!
//! A [`Suite`] discovers scenario files under the paths given and loads them; each file expands
//! into one [`Trial`] per target, named `<path under the root>@<target>`; [`run_pool`] runs them
//! on threads of their own; [`snapshot`] compares each transcript with its snapshot (insta's
//! format) or writes it; [`stray_snapshots`] finds snapshot files that no trial uses;
//! [`Partition`] and [`has_tag`] select the trials of a CI shard or a tag.

mod discover;
pub mod html;
pub mod junit;
mod pool;
pub mod record;
mod select;
pub mod snapshot;
mod stray;

pub use discover::{DiscoverError, Suite, Trial, TrialResult};
pub use pool::{default_jobs, run_pool};
pub use record::{TestEvent, TestReport, TrialRecord};
pub use select::{Partition, PartitionError, has_tag};
pub use stray::{InvalidCase, expected_snapshots, invalid_cases, stray_snapshots};
