//! Scenario files: the YAML format (see `docs/scenarios.md`), its loader with positioned
//! diagnostics, and its JSON Schema.

mod check;
mod config_span;
mod discover;
mod error;
mod file;
mod load;
mod matching;
pub mod model;
mod yaml_error;

pub use crate::util::Dur;
pub use discover::collect_files;
pub use error::ScenarioError;
pub use file::{ScenarioFile, TrialTarget};
pub use load::{json_schema, load_file, load_str};
pub use matching::contains;
pub use model::Scenario;
