// Charts through Chart.js (window.Chart, Debian's libjs-chart.js). Each view keeps its charts and
// updates their data in place, so a refresh does not redraw from nothing.

import { el } from "./dom.js";

const Chart = window.Chart;
export const colors = { source: "#0b4f9c", target: "#c2410c", paused: "#8a5a00", pausing: "#9aa5b1", committed: "#0a6b2d" };

Chart.defaults.font.size = 15;
Chart.defaults.color = "#111";
Chart.defaults.animation = false;  // a war room's screen shows the figures, not the motion

// A canvas in a box with an accessible name; `id` lets tests find it.
export function chartBox(id, label, short = false) {
  const canvas = el("canvas", { id, role: "img", "aria-label": label });
  return { box: el("div", { class: short ? "chart short" : "chart" }, canvas), canvas };
}

export function lineChart(canvas, yLabel, datasets) {
  return new Chart(canvas, {
    type: "line",
    data: { datasets },
    options: {
      maintainAspectRatio: false,
      parsing: false,
      interaction: { mode: "nearest", axis: "x", intersect: false },
      scales: {
        x: { type: "linear", title: { display: true, text: "ago" },
             ticks: { callback: (v) => (v > -180 ? `${Math.round(-v)} s` : `${Math.round(-v / 6) / 10} min`) } },
        y: { beginAtZero: true, title: { display: true, text: yLabel } },
      },
    },
  });
}

export function barChart(canvas, yLabel, labels, datasets) {
  return new Chart(canvas, {
    type: "bar",
    data: { labels, datasets },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, title: { display: true, text: yLabel } } } },
  });
}

// One attempt's timeline: per proxy, the pause (trigger to traffic paused) and the stall (paused
// to commit, or to now while still paused), in seconds from the attempt's start.
export function timelineData(attempt, nowNs = Date.now() * 1e6) {
  const start = attempt.created_ns || Math.min(...attempt.proxies.map((p) => p.cutover.trigger_time_ns || Infinity));
  const s = (ns) => (ns - start) / 1e9;
  const labels = attempt.proxies.map((p) => p.lms_address || p.control_address);
  const pausing = [];
  const paused = [];
  for (const p of attempt.proxies) {
    const c = p.cutover;
    const mine = c.id === attempt.id;
    const trigger = mine ? c.trigger_time_ns : 0;
    const pausedAt = mine ? c.traffic_paused_time_ns : 0;
    const committed = mine ? c.commit_time_ns : 0;
    pausing.push(trigger ? [s(trigger), s(pausedAt || nowNs)] : null);
    const stallEnd = committed || (c.status === "TrafficPaused" ? nowNs : 0);
    paused.push(pausedAt && stallEnd ? [s(pausedAt), s(stallEnd)] : null);
  }
  return {
    labels,
    datasets: [
      { label: "pausing (busy sessions finishing)", data: pausing, backgroundColor: colors.pausing },
      { label: "paused (the stall clients see)", data: paused, backgroundColor: colors.paused },
    ],
  };
}

export function timelineChart(canvas, attempt) {
  return new Chart(canvas, {
    type: "bar",
    data: timelineData(attempt),
    options: {
      indexAxis: "y",
      maintainAspectRatio: false,
      scales: { x: { beginAtZero: true, title: { display: true, text: "seconds from the attempt's start" } }, y: { stacked: true } },
      plugins: {
        tooltip: { callbacks: { label: (ctx) => {
          const [a, b] = ctx.raw || [0, 0];
          return `${ctx.dataset.label}: ${(b - a).toFixed(3)} s`;
        } } },
      },
    },
  });
}

export function replaceData(chart, data) {
  if (data.labels) chart.data.labels = data.labels;
  chart.data.datasets.forEach((d, i) => { d.data = data.datasets[i].data; });
  chart.update();
}
