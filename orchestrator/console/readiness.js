// Readiness: the compatibility report merged over every proxy. Statements worst first, the
// target's first error, mismatches by kind, p50/p99 on each database, and the mismatch rate over
// the sampled history.

import { get } from "./api.js";
import { barChart, chartBox, colors, lineChart, replaceData } from "./charts.js";
import { el, figure, message, ms, percent, table } from "./dom.js";

export const title = "Readiness";
let charts = null;

const shortStatement = (s) => (s.length > 40 ? `${s.slice(0, 38)}…` : s);

function kinds(statement) {
  return Object.entries(statement.differences || {}).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");
}

export function unmount() {
  if (charts) Object.values(charts).forEach((c) => c.destroy());
  charts = null;
}

export async function render(root) {
  const [report, history] = await Promise.all([get("/v1/shadow/report"), get("/v1/metrics/history")]);
  const statements = report.statements.filter((s) => !s.ignored);
  const top = statements.slice(0, 10);
  const latencyData = {
    labels: top.map((s) => shortStatement(s.statement)),
    datasets: [
      { label: "source p50", data: top.map((s) => s.source_latency_ms.p50), backgroundColor: "#6b93c7" },
      { label: "source p99", data: top.map((s) => s.source_latency_ms.p99), backgroundColor: colors.source },
      { label: "target p50", data: top.map((s) => s.target_latency_ms.p50), backgroundColor: "#e3946a" },
      { label: "target p99", data: top.map((s) => s.target_latency_ms.p99), backgroundColor: colors.target },
    ],
  };
  const now = Date.now();
  const rateData = {
    datasets: [{
      label: "mismatches and target errors per compared answer",
      data: history.samples.filter((s) => s.compared > 0)
        .map((s) => ({ x: (s.at_ms - now) / 1000, y: (100 * (s.mismatches + s.target_errors)) / s.compared })),
      borderColor: colors.target, backgroundColor: colors.target,
    }],
  };
  if (!charts) {
    const latency = chartBox("latency-chart", "p50 and p99 latency per statement on each database");
    const rate = chartBox("mismatch-rate-chart", "mismatch rate over time", true);
    root.replaceChildren(el("h1", {}, "Readiness"), el("div", { id: "readiness-body" }),
      el("h2", {}, "Latency per statement (ms)"), latency.box, el("h2", {}, "Mismatch rate (%)"), rate.box);
    charts = { latency: barChart(latency.canvas, "ms", latencyData.labels, latencyData.datasets),
               rate: lineChart(rate.canvas, "% of compared answers", rateData.datasets) };
  } else {
    replaceData(charts.latency, latencyData);
    replaceData(charts.rate, rateData);
  }
  const failing = report.proxies.filter((p) => p.error);
  document.getElementById("readiness-body").replaceChildren(
    ...failing.map((p) => message(`${p.control_address}: ${p.error}`, true)),
    el("div", { class: "figures" },
      figure("answers compared", report.compared, "figure-compared"),
      figure("target errors", report.target_errors, "figure-target-errors"),
      figure("mismatches", report.mismatches, "figure-mismatches"),
      figure("mismatch rate", report.compared ? percent((report.mismatches + report.target_errors) / report.compared) : "–", "figure-rate"),
      figure("shadow mode", report.shadow_mode || "–")),
    table("statements", [
      { label: "statement", class: "statement", value: (s) => s.statement },
      { label: "runs", class: "num", value: (s) => s.executions },
      { label: "target errors", class: "num", value: (s) => s.target_errors },
      { label: "first target error", class: "error-text", value: (s) => s.first_target_error },
      { label: "mismatches", class: "num", value: (s) => s.mismatches },
      { label: "by kind", value: kinds },
      { label: "source p50 / p99", class: "num", value: (s) => `${ms(s.source_latency_ms.p50)} / ${ms(s.source_latency_ms.p99)}` },
      { label: "target p50 / p99", class: "num", value: (s) => `${ms(s.target_latency_ms.p50)} / ${ms(s.target_latency_ms.p99)}` },
    ], statements, "no statements compared yet"));
}
