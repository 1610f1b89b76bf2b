//! Scenario files: the YAML format (see `docs/scenarios.md`), its loader with positioned
//! diagnostics, and its JSON Schema.

mod check;
mod config_span;
mod duration;
mod load;
pub mod model;
mod yaml_error;

pub use duration::Dur;
pub use load::{
    ScenarioError, ScenarioFile, TrialTarget, collect_files, json_schema, load_file, load_str,
};
pub use model::Scenario;
