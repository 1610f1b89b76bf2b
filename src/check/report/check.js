// Draws a `cattackle check` report from the JSON in #data: a summary, every failure and warning
// first with its evidence and reference, then each suite's results by area.
"use strict";
const data = JSON.parse(document.getElementById("data").textContent);
const MARK = { pass: "✓", fail: "✗", warn: "!", skip: "–", info: "i", error: "E" };
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function result(suite, r) {
  const row = el("div", { class: "result " + r.status, "data-id": r.id });
  const mark = r.baselined ? "✗ (baselined)" : MARK[r.status];
  row.appendChild(el("span", { class: "badge " + r.status }, mark));
  row.appendChild(document.createTextNode(` ${r.id}${r.subject ? " [" + r.subject + "]" : ""}  ${r.message}`));
  if (["fail", "warn", "error"].includes(r.status)) {
    for (const e of r.evidence || []) row.appendChild(el("div", { class: "failure" }, e));
    row.appendChild(el("div", { class: "meta" }, `${r.severity.toUpperCase()} · ${r.reference}${r.baselined ? " · baselined: " + r.baselined : ""}`));
  }
  return row;
}
const root = document.getElementById("report");
const s = data.summary;
const head = el("div", { class: "summary" });
head.appendChild(el("span", { class: data.passed ? "ok" : "failed" }, data.passed ? "ok" : "FAILED"));
head.appendChild(document.createTextNode(` · ${s.passed} passed, ${s.failed} failed, ${s.warnings} warnings, ${s.skipped} skipped${s.baselined ? ", " + s.baselined + " baselined" : ""}${s.stale ? ", " + s.stale + " stale baseline entries" : ""}`));
root.appendChild(head);
const bad = data.suites.flatMap(suite => suite.results.filter(r => ["fail", "warn", "error"].includes(r.status)).map(r => [suite, r]));
if (bad.length) {
  const box = el("details", { class: "trial fail", open: "" });
  box.appendChild(el("summary", {}, `failures and warnings (${bad.length})`));
  const body = el("div", { class: "body" });
  for (const [suite, r] of bad) { body.appendChild(el("div", { class: "meta" }, suite.name)); body.appendChild(result(suite, r)); }
  box.appendChild(body);
  root.appendChild(box);
}
for (const suite of data.suites) {
  const d = el("details", { class: "trial " + (suite.results.some(r => r.status === "fail" && !r.baselined) ? "fail" : "pass") });
  d.appendChild(el("summary", {}, `${suite.name} (${suite.transport}, ${suite.cattackle ? "cattackle" : "MCP server"}${suite.protocol_version ? ", protocol " + suite.protocol_version : ""})${suite.reachable ? "" : " — could not be reached"}`));
  const body = el("div", { class: "body" });
  let area = null;
  for (const r of suite.results) {
    if (r.area !== area) { area = r.area; body.appendChild(el("h3", {}, area)); }
    body.appendChild(result(suite, r));
  }
  d.appendChild(body);
  root.appendChild(d);
}
document.body.setAttribute("data-rendered", String(data.suites.length));
