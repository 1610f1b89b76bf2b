// Draws the report from the JSON in #data: a summary, failing trials first, and for each trial
// its failures, steps, a timeline of every call on the scenario clock (SVG) and its transcript.
// Hovering an attempt shows the JSON-RPC messages on the wire while it ran.
"use strict";
const data = JSON.parse(document.getElementById("data").textContent);
const SVG = "http://www.w3.org/2000/svg";
// Timeline geometry: x = LEFT + t / span * PLOT (the browser test computes the same).
const LEFT = 200, PLOT = 740, ROW = 22, TOP = 24;

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function svg(tag, attrs, title) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (title) { const t = document.createElementNS(SVG, "title"); t.textContent = title; e.appendChild(t); }
  return e;
}
function ms(us) { return us >= 1e6 ? (us / 1e6).toFixed(3).replace(/\.?0+$/, "") + "s" : (us / 1000).toFixed(1).replace(/\.0$/, "") + "ms"; }

function calls(marks) {
  const byStep = new Map();
  for (const m of marks) {
    if (m.kind === "step") byStep.set(m.step, { step: m.step, action: m.action, start: m.at_us, end: null, attempts: [], rejected: null });
  }
  for (const m of marks) {
    const c = byStep.get(m.step);
    if (!c) continue;
    if (m.kind === "attempt") c.attempts.push({ n: m.attempt, start: m.at_us, end: null, error: null, message: "", retry: null });
    if (m.kind === "attempt_failed") {
      const a = c.attempts.find(a => a.n === m.attempt && a.end === null);
      if (a) { a.end = m.at_us; a.error = m.error; a.message = m.message; a.retry = m.retry_in_us; }
    }
    if (m.kind === "rejected") c.rejected = { at: m.at_us, error: m.error };
    if (m.kind === "step_end") { c.end = m.at_us; c.outcome = m.outcome; c.ok = m.ok; }
  }
  const list = [...byStep.values()].filter(c => c.attempts.length || c.rejected);
  for (const c of list) for (const a of c.attempts) if (a.end === null) a.end = c.end ?? a.start;
  return list;
}

function timeline(trial) {
  const marks = trial.timeline;
  const rows = calls(marks);
  const sessions = marks.filter(m => m.kind === "session");
  const faults = marks.filter(m => m.kind === "fault");
  const breakers = marks.filter(m => m.kind === "breaker");
  const wire = marks.filter(m => m.kind === "wire");
  const span = Math.max(1, trial.scenario_time_ms * 1000, ...marks.map(m => m.at_us));
  const x = t => LEFT + (t / span) * PLOT;
  const lanes = rows.length + 3;
  const height = TOP + lanes * ROW + 10;
  const s = svg("svg", { class: "timeline", width: LEFT + PLOT + 20, height, "data-span-us": span });
  // Axis and ticks.
  s.appendChild(svg("line", { class: "axis", x1: LEFT, y1: TOP - 6, x2: LEFT + PLOT, y2: TOP - 6 }));
  for (let i = 0; i <= 5; i++) {
    const t = span * i / 5;
    s.appendChild(svg("line", { class: "axis", x1: x(t), y1: TOP - 10, x2: x(t), y2: height - 6 }));
    const label = svg("text", { class: "tick", x: x(t) - 10, y: TOP - 12 }); label.textContent = ms(t); s.appendChild(label);
  }
  const panel = el("div", { class: "wire" }, "hover an attempt to see its messages");
  rows.forEach((c, i) => {
    const y = TOP + i * ROW;
    const name = svg("text", { x: 4, y: y + 14 }); name.textContent = (c.step + " " + c.action).slice(0, 30); s.appendChild(name);
    c.attempts.forEach((a, j) => {
      const cls = a.error === null ? "ok" : (a.error === "timed_out" ? "timed_out" : "error");
      const width = Math.max(2, x(a.end) - x(a.start));
      const title = `attempt ${a.n}: ${ms(a.start)} → ${ms(a.end)}, ${a.error === null ? "ok" : a.error + ": " + a.message}`;
      const bar = svg("rect", { class: "attempt " + cls, x: x(a.start).toFixed(2), y: y + 3, width: width.toFixed(2), height: ROW - 8,
        "data-step": c.step, "data-attempt": a.n, "data-start-us": a.start, "data-end-us": a.end, "data-outcome": a.error ?? "ok" }, title);
      bar.addEventListener("mouseenter", () => {
        const during = wire.filter(w => w.at_us >= a.start && w.at_us <= a.end);
        panel.textContent = title + "\n" + (during.length ? during.map(w => `${ms(w.at_us)} c${w.conn ?? "?"} ${w.dir} ${w.text}`).join("\n") : "(no messages seen by the server in this window)");
      });
      s.appendChild(bar);
      const next = c.attempts[j + 1];
      if (a.retry !== null && next) {
        s.appendChild(svg("line", { class: "backoff", x1: x(a.end), y1: y + ROW / 2, x2: x(next.start), y2: y + ROW / 2 }, `backoff ${ms(a.retry)}`));
      }
    });
    if (c.rejected) s.appendChild(svg("circle", { class: "attempt error rejected", cx: x(c.rejected.at), cy: y + ROW / 2, r: 5 }, `rejected: ${c.rejected.error}`));
  });
  const lane = (i, label, items, draw) => {
    const y = TOP + (rows.length + i) * ROW;
    const t = svg("text", { x: 4, y: y + 14 }); t.textContent = label; s.appendChild(t);
    items.forEach(m => s.appendChild(draw(m, y)));
  };
  lane(0, "sessions", sessions, (m, y) => svg("rect", { class: "session " + m.event, x: x(m.at_us) - 3, y: y + 4, width: 6, height: ROW - 10 }, `${ms(m.at_us)} session ${m.session} ${m.event} (${m.reason})`));
  lane(1, "faults", faults, (m, y) => svg("polygon", { class: "fault", points: `${x(m.at_us)},${y + 4} ${x(m.at_us) + 5},${y + 11} ${x(m.at_us)},${y + 18} ${x(m.at_us) - 5},${y + 11}` }, `${ms(m.at_us)} fault: ${m.text}`));
  lane(2, "breaker", breakers, (m, y) => { const t = svg("text", { class: "breaker", x: x(m.at_us), y: y + 14 }, `${ms(m.at_us)} ${m.from} → ${m.to}`); t.textContent = m.to; return t; });
  const box = el("div");
  box.appendChild(s);
  box.appendChild(panel);
  return box;
}

function diffed(message) {
  const box = el("div", { class: "failure" });
  for (const line of message.split("\n")) {
    const cls = line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "";
    box.appendChild(el("span", cls ? { class: cls } : {}, line + "\n"));
  }
  return box;
}

function trialView(t) {
  const d = el("details", { class: "trial " + t.status, "data-name": t.name });
  if (t.status === "fail" || decodeURIComponent(location.hash.slice(1)) === t.name) d.open = true;
  const sum = el("summary");
  sum.appendChild(el("span", { class: "badge " + t.status }, { pass: "ok", skip: "skip", fail: "FAILED" }[t.status]));
  if (t.skipped) sum.appendChild(el("span", { class: "muted" }, " " + t.skipped));
  sum.appendChild(document.createTextNode(t.name + (t.run > 1 ? ` [run ${t.run}]` : "")));
  sum.appendChild(el("span", { class: "meta" }, `${t.clock} clock · seed ${t.seed} · ${ms(t.scenario_time_ms * 1000)} scenario · ${ms(t.wall_time_ms * 1000)} wall`));
  d.appendChild(sum);
  const body = el("div", { class: "body" });
  const failures = t.failures || [];
  for (const f of failures) { const b = diffed(`${f.at}: ${f.message}`); body.appendChild(b); }
  if (failures.length) body.appendChild(el("div", { class: "meta" }, "reproduce: " + t.reproduce));
  const steps = el("ol", { class: "steps" });
  for (const m of t.timeline.filter(m => m.kind === "step_end")) {
    const start = t.timeline.find(s => s.kind === "step" && s.step === m.step);
    steps.appendChild(el("li", m.ok ? {} : { class: "bad" }, `${m.step} ${start ? start.action : ""}${m.outcome ? " → " + m.outcome : ""}`));
  }
  body.appendChild(steps);
  body.appendChild(timeline(t));
  body.appendChild(el("pre", { class: "transcript" }, t.transcript));
  d.appendChild(body);
  return d;
}

const root = document.getElementById("report");
const s = data.summary;
const head = el("div", { class: "summary" });
head.appendChild(el("span", { class: data.passed ? "ok" : "failed" }, data.passed ? "ok" : "FAILED"));
head.appendChild(document.createTextNode(` · ${s.passed} passed, ${s.failed} failed${s.flaky ? `, ${s.flaky} flaky` : ""}${s.not_run ? `, ${s.not_run} not run` : ""} · ${ms(s.scenario_time_ms * 1000)} of scenario time in ${ms(s.wall_time_ms * 1000)}`));
root.appendChild(head);
const trials = [...data.trials].sort((a, b) => (a.status === b.status ? 0 : a.status === "fail" ? -1 : 1));
for (const t of trials) root.appendChild(trialView(t));
// A link to one trial (`report.html#<trial name>`) opens it and scrolls to it.
const wanted = [...document.querySelectorAll("details.trial")].find(d => d.dataset.name === decodeURIComponent(location.hash.slice(1)));
if (wanted && wanted !== document.querySelector("details.trial")) wanted.scrollIntoView();
document.body.setAttribute("data-rendered", String(trials.length));
