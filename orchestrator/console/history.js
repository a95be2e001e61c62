// History: every attempt the orchestrator recorded, newest first, each with its timeline.

import { get } from "./api.js";
import { chartBox, timelineChart } from "./charts.js";
import { el, table, when } from "./dom.js";

export const title = "History";
let charts = [];
let shown = "";

export function unmount() {
  charts.forEach((c) => c.destroy());
  charts = [];
  shown = "";
}

export async function render(root) {
  const { attempts } = await get("/v1/cutover/history");
  // Redraw only when something changed: history is mostly still.
  const key = JSON.stringify(attempts);
  if (key === shown) return;
  unmount();
  shown = key;
  const sections = attempts.slice(0, 20).map((a) => {
    const box = chartBox(`timeline-${a.id}`, `timeline of cutover ${a.id}`, true);
    charts.push(timelineChart(box.canvas, a));
    return el("section", { class: "attempt", id: `attempt-${a.id}` },
      el("h2", {}, `Cutover ${a.id}: ${a.status}`),
      el("p", {}, `begun ${when(a.created_ns)}, decision ${a.decision}, begin timeout ${a.begin_timeout_ms} ms ` +
        `(${a.on_begin_timeout})`, a.error ? `; ${a.error}` : ""),
      table(`attempt-${a.id}-proxies`, [
        { label: "proxy", value: (p) => p.lms_address || p.control_address },
        { label: "status", value: (p) => p.status },
        { label: "source of truth", value: (p) => p.source_of_truth },
        { label: "triggered", value: (p) => p.trigger_time },
        { label: "paused", value: (p) => p.traffic_paused_time },
        { label: "committed or resumed", value: (p) => p.commit_time },
        { label: "error", class: "error-text", value: (p) => p.error },
      ], a.proxies),
      box.box);
  });
  root.replaceChildren(el("h1", {}, "History"),
    el("p", { id: "history-count" }, `${attempts.length} attempts`), ...sections);
}
