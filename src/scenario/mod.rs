//! Scenario files: the YAML format (see `docs/scenarios.md`), its loader with positioned
//! diagnostics, and its JSON Schema.

mod duration;
mod load;
pub mod model;

pub use duration::Dur;
pub use load::{
    ScenarioError, ScenarioFile, TrialTarget, collect_files, json_schema, load_file, load_str,
};
pub use model::Scenario;
