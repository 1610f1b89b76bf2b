//! Renderings of a [`RunReport`](super::RunReport): for people ([`human`]), for programs (JSON,
//! the report serialized) and for CI test tabs ([`junit`]).

pub mod human;
pub mod junit;

/// The report as one self-contained HTML page (`--report PATH`): failures and warnings first
/// with their evidence, then every suite by area. Drawn by inline JS from the JSON document;
/// no network. Evidence is redacted at the source, so the page holds no secret.
pub fn html(report: &super::RunReport) -> String {
    let data = json(report).replace("</", "<\\/");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>cattackle check report</title>\n\
         <style>\n{}\n.result {{ font-family: ui-monospace, monospace; font-size: 12px; margin: 3px 0; }}\n\
         .badge.warn {{ color: #b06000; }} .badge.skip, .badge.info {{ color: #777; }}\n</style>\n</head>\n<body>\n<h1>cattackle check</h1>\n\
         <noscript>This report draws itself with JavaScript, which is off.</noscript>\n<div id=\"report\"></div>\n\
         <script type=\"application/json\" id=\"data\">{data}</script>\n<script>\n{}</script>\n</body>\n</html>\n",
        crate::trial::html::CSS,
        include_str!("check.js"),
    )
}

/// The report as the stable JSON document of `--format json`.
pub fn json(report: &super::RunReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

/// The JSON Schema of that document (`docs/check-report.schema.json`).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(super::RunReport);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
