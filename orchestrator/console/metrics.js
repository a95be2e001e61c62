// Metrics: requests per second and p99 latency per database over the last 15 minutes, as the
// orchestrator sampled them from the proxies. A cutover shows as the load moving from the source's
// line to the target's.

import { get } from "./api.js";
import { chartBox, colors, lineChart, replaceData } from "./charts.js";
import { el, ms, rate, table } from "./dom.js";

export const title = "Metrics";
let charts = null;

export function unmount() {
  if (charts) Object.values(charts).forEach((c) => c.destroy());
  charts = null;
}

function series(samples, now, pick, label = (db) => `${db} database`, dashed = false) {
  return ["source", "target"].map((db) => ({
    label: label(db),
    data: samples.map((s) => ({ x: (s.at_ms - now) / 1000, y: pick(s[db]) })),
    borderColor: colors[db], backgroundColor: colors[db], pointRadius: 0, borderDash: dashed ? [6, 4] : [],
  }));
}

export async function render(root) {
  const history = await get("/v1/metrics/history");
  const now = Date.now();
  // Solid: what each database answered as the source of truth; dashed: the shadowed copies it ran.
  const rps = { datasets: [
    ...series(history.samples, now, (d) => d.served_per_s, (db) => `served by the ${db} database`),
    ...series(history.samples, now, (d) => d.requests_per_s - d.served_per_s, (db) => `shadowed to the ${db} database`, true),
  ] };
  const p99 = { datasets: series(history.samples, now, (d) => d.p99_ms) };
  if (!charts) {
    const a = chartBox("rps-chart", "requests per second on each database over 15 minutes");
    const b = chartBox("p99-chart", "p99 latency on each database over 15 minutes");
    root.replaceChildren(el("h1", {}, "Metrics"), el("p", { id: "metrics-interval" }),
      el("h2", {}, "Requests per second"), a.box, el("h2", {}, "p99 latency (ms)"), b.box,
      el("h2", {}, "Per proxy, last interval"), el("div", { id: "metrics-proxies" }));
    charts = { rps: lineChart(a.canvas, "requests/s", rps.datasets), p99: lineChart(b.canvas, "ms", p99.datasets) };
  } else {
    replaceData(charts.rps, rps);
    replaceData(charts.p99, p99);
  }
  const last = history.samples[history.samples.length - 1];
  document.getElementById("metrics-interval").textContent =
    `${history.samples.length} samples, one every ${history.interval_ms / 1000} s` +
    (last ? `; now: source ${rate(last.source.requests_per_s)}/s (p99 ${ms(last.source.p99_ms)}), ` +
      `target ${rate(last.target.requests_per_s)}/s (p99 ${ms(last.target.p99_ms)})` : "");
  document.getElementById("metrics-proxies").replaceChildren(table("metrics-proxy-table", [
    { label: "proxy", value: (p) => p.control_address },
    { label: "served by", value: (p) => p.source_of_truth_role },
    { label: "requests/s", class: "num", value: (p) => rate(p.requests_per_s) },
    { label: "shadowed/s", class: "num", value: (p) => rate(p.shadow_per_s) },
    { label: "errors/s", class: "num", value: (p) => rate(p.errors_per_s) },
  ], last ? last.proxies : [], "no sample yet"));
}
