// Cutover: checks before begin, then begin, commit and abort, each behind a confirmation that says
// what will happen, with the same API calls (and the same safety) as lms-cli. While an attempt
// runs, each proxy's busy sessions count down and its timeline grows.

import { get, inProgress, latestCutover, post } from "./api.js";
import { chartBox, replaceData, timelineChart, timelineData } from "./charts.js";
import { clock, el, message, table } from "./dom.js";
import { confirmAction, setStatus } from "./app.js";

export const title = "Cutover";
let chart = null;
let chartAttempt = 0;
let checks = null;
let pending = null;  // {what, since}: a step the orchestrator is still carrying out
let outcome = null;  // the last step's result, shown until the next one
let options = { timeout: "30", onTimeout: "end-sessions", preflight: true };

export function unmount() {
  buttons = null;
  if (chart) chart.destroy();
  chart = null;
  chartAttempt = 0;
}

async function runChecks() {
  setStatus("running the checks…");
  checks = await get("/v1/cutover/checks");
  checks.at = new Date();
  setStatus(checks.ready ? "checks passed" : "a check failed");
}

async function step(what, call) {
  pending = { what, since: Date.now() };
  outcome = null;
  try {
    const attempt = await call();
    outcome = { text: `${what}: cutover ${attempt.id} is ${attempt.status}`, error: false };
  } catch (e) {
    outcome = { text: `${what} failed: ${e.message}`, error: true };
  } finally {
    pending = null;
  }
}

async function begin(proxies, truth) {
  const seconds = Number(options.timeout);
  const onTimeout = options.onTimeout === "abort" ? "the attempt is aborted and traffic resumes on " + truth
    : "the sessions still busy are ended with an error, then traffic pauses";
  const ok = await confirmAction("Begin the cutover?",
    `Every one of the ${proxies} proxies stops sending new queries to ${truth}: they wait in the proxies. ` +
    (options.preflight ? `The preflight checks run first: if one fails, nothing pauses. `
      : `The preflight checks are skipped. `) +
    `Busy sessions get ${seconds ? seconds + " s" : "as long as they need"} to finish` +
    (seconds ? `; then ${onTimeout}.` : "."), "Begin: pause traffic");
  if (!ok) return;
  // The orchestrator runs the preflight first, as lms-cli does: when a check fails nothing pauses,
  // and the checks it ran replace the table above.
  await step("begin", async () => {
    try {
      return await post("/v1/cutover/begin", {
        begin_timeout_ms: Math.round(seconds * 1000), on_begin_timeout: options.onTimeout,
        preflight: options.preflight });
    } catch (e) {
      if (e.data && e.data.preflight) checks = { ...e.data.preflight, at: new Date() };
      throw e;
    }
  });
}

async function commit(attempt, truth, other) {
  const ok = await confirmAction("Commit the cutover?",
    `Cutover ${attempt.id}: once the replication marker written on ${truth} is seen on ${other}, every proxy ` +
    `serves from ${other} and the paused clients resume there. Abort is no longer possible after this.`,
    `Commit: switch to ${other}`);
  if (!ok) return;
  await step("commit", () => post("/v1/cutover/commit", { id: attempt.id }));
}

async function abort(attempt, truth) {
  const ok = await confirmAction("Abort the cutover?",
    `Cutover ${attempt.id} is given up: the paused clients resume on ${truth}, the source of truth stays as it is.`,
    "Abort: resume on " + truth);
  if (!ok) return;
  await step("abort", () => post("/v1/cutover/abort", { id: attempt.id }));
}

// The latest answers, which the buttons act on; the buttons themselves are made once, so a
// refresh never replaces one under the operator's pointer or loses a value being typed.
let latest = { attempt: null, status: { proxies: [] } };
let buttons = null;

function names() {
  const first = latest.status.proxies.find((p) => !p.error) || {};
  const truth = first.source_of_truth ? `${first.source_of_truth} (${first.source_of_truth_role})` : "the source of truth";
  const otherRole = first.source_of_truth_role === "target" ? "source" : "target";
  const otherAddress = first.source_of_truth_role === "target" ? first.source_address : first.target_address;
  return { proxies: latest.status.proxies.length, truth, other: `the ${otherRole} database (${otherAddress || "?"})` };
}

function makeControls() {
  const run = (fn) => () => fn().catch((e) => setStatus(e.message));
  buttons = {
    checks: el("button", { id: "run-checks", onclick: run(runChecks) }, "Run checks"),
    begin: el("button", { id: "begin", class: "primary", onclick: run(() => begin(names().proxies, names().truth)) }, "Begin"),
    commit: el("button", { id: "commit", class: "danger", onclick: run(() => commit(latest.attempt, names().truth, names().other)) }, "Commit"),
    abort: el("button", { id: "abort", onclick: run(() => abort(latest.attempt, names().truth)) }, "Abort"),
  };
  return el("div", { class: "controls" },
    buttons.checks,
    el("label", {}, "begin timeout (s)", el("input", { id: "begin-timeout", type: "number", min: "0", value: options.timeout,
      oninput: (e) => { options.timeout = e.target.value; } })),
    el("label", {}, "when it expires", el("select", { id: "on-timeout", onchange: (e) => { options.onTimeout = e.target.value; } },
      el("option", { value: "end-sessions", selected: options.onTimeout === "end-sessions" }, "end the busy sessions"),
      el("option", { value: "abort", selected: options.onTimeout === "abort" }, "abort the attempt"))),
    el("label", {}, el("input", { id: "preflight-first", type: "checkbox", checked: options.preflight,
      onchange: (e) => { options.preflight = e.target.checked; } }), "preflight first"),
    buttons.begin, buttons.commit, buttons.abort);
}

function updateControls() {
  const { attempt } = latest;
  const running = inProgress(attempt);
  const busy = pending !== null;
  buttons.checks.disabled = busy;
  buttons.begin.disabled = busy || running;
  buttons.commit.disabled = busy || !attempt || attempt.status !== "TrafficPaused";
  buttons.abort.disabled = busy || !running || attempt.status === "Committing";
}

export async function render(root) {
  const [attempt, status] = await Promise.all([latestCutover(), get("/v1/status")]);
  latest = { attempt, status };
  let body = document.getElementById("cutover-checks");
  if (!body) {
    const timeline = chartBox("timeline-chart", "the latest attempt's timeline per proxy", true);
    root.replaceChildren(el("h1", {}, "Cutover"),
      el("h2", {}, "Checks before begin"), el("div", { id: "cutover-checks" }),
      el("h2", {}, "Steps"), makeControls(), el("div", { id: "cutover-progress" }),
      el("h2", {}, "Latest attempt"), el("div", { id: "cutover-attempt" }),
      el("h2", {}, "Timeline"), timeline.box);
    root.timelineCanvas = timeline.canvas;
  }
  updateControls();
  if (attempt && (!chart || chartAttempt !== attempt.id)) {
    if (chart) chart.destroy();
    chart = timelineChart(root.timelineCanvas, attempt);
    chartAttempt = attempt.id;
  } else if (attempt) {
    replaceData(chart, timelineData(attempt));
  }
  const waiting = pending
    ? message(pending.what === "commit"
      ? `Waiting for the replication marker to reach the other database, then switching… ${Math.round((Date.now() - pending.since) / 1000)} s`
      : `${pending.what}… ${Math.round((Date.now() - pending.since) / 1000)} s`)
    : null;
  document.getElementById("cutover-checks").replaceChildren(
    checks ? el("p", { id: "checks-time" }, `as of ${checks.at.toLocaleTimeString()}`) : "",
    checks
      ? table("checks", [
          { label: "check", value: (c) => c.name },
          { label: "result", value: (c) => el("span", { class: `result-${c.result}` }, c.result) },
          { label: "detail", value: (c) => c.detail },
        ], checks.checks)
      : el("p", { id: "checks-hint" }, "Run the checks to see what would stop or stall a cutover, before anything pauses."));
  document.getElementById("cutover-progress").replaceChildren(
    waiting ?? "", outcome ? el("div", { id: "outcome" }, message(outcome.text, outcome.error)) : "");
  document.getElementById("cutover-attempt").replaceChildren(
    attempt
      ? el("div", {},
          el("p", { id: "attempt-status" }, `Cutover ${attempt.id}: `, el("strong", {}, attempt.status),
            attempt.error ? ` (${attempt.error})` : ""),
          table("attempt-proxies", [
            { label: "proxy", value: (p) => p.lms_address || p.control_address },
            { label: "status", value: (p) => p.status },
            { label: "busy sessions", class: "num", value: (p) => (p.cutover.status === "Began" ? p.cutover.busy_sessions : 0) },
            { label: "source of truth", value: (p) => `${p.source_of_truth} (${p.cutover.source_of_truth_role})` },
            { label: "triggered", value: (p) => clock(p.cutover.trigger_time_ns) },
            { label: "paused", value: (p) => clock(p.cutover.traffic_paused_time_ns) },
            { label: "committed or resumed", value: (p) => clock(p.cutover.commit_time_ns) },
            { label: "error", class: "error-text", value: (p) => p.error || p.cutover.error },
          ], attempt.proxies))
      : el("p", { id: "attempt-status" }, "No cutover yet."));
}
