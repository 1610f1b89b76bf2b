//! Renderings of a [`RunReport`](super::RunReport): for people ([`human`]), for programs (JSON,
//! the report serialized) and for CI test tabs ([`junit`]).

pub mod human;
pub mod junit;

/// The report as the stable JSON document of `--format json`.
pub fn json(report: &super::RunReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

/// The JSON Schema of that document (`docs/check-report.schema.json`).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(super::RunReport);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
