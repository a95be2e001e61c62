// Overview: every proxy with its state and load; the source of truth is in the header.

import { get } from "./api.js";
import { el, figure, rate, table } from "./dom.js";

export const title = "Overview";

export async function render(root) {
  const [status, history] = await Promise.all([get("/v1/status"), get("/v1/metrics/history")]);
  const latest = history.samples.length ? history.samples[history.samples.length - 1] : null;
  const rates = new Map((latest ? latest.proxies : []).map((p) => [p.control_address, p]));
  const proxies = status.proxies;
  const ready = proxies.filter((p) => !p.error).length;
  const sessions = proxies.reduce((n, p) => n + (p.open_connections || 0), 0);
  const total = [...rates.values()].reduce((n, p) => n + p.requests_per_s, 0);
  root.replaceChildren(
    el("h1", {}, "Overview"),
    el("div", { class: "figures" },
      figure("proxies ready", `${ready} / ${proxies.length}`, "figure-ready"),
      figure("client sessions", sessions, "figure-sessions"),
      figure("requests per second", latest ? rate(total) : "–", "figure-rps")),
    table("proxies", [
      { label: "proxy", value: (p) => p.sql_address || p.control_address },
      { label: "control", value: (p) => p.control_address },
      { label: "ready", value: (p) => (p.error ? el("span", { class: "bad" }, `no: ${p.error}`) : el("span", { class: "ok" }, "yes")) },
      { label: "source of truth", value: (p) => (p.source_of_truth ? `${p.source_of_truth} (${p.source_of_truth_role})` : "") },
      { label: "shadow mode", value: (p) => p.shadow_mode },
      { label: "dialects", value: (p) => (p.source_dialect ? `${p.source_dialect} → ${p.target_dialect || "none"}` : "") },
      { label: "sessions", class: "num", value: (p) => p.open_connections },
      { label: "requests/s", class: "num", value: (p) => (rates.has(p.control_address) ? rate(rates.get(p.control_address).requests_per_s) : "–") },
      { label: "errors/s", class: "num", value: (p) => (rates.has(p.control_address) ? rate(rates.get(p.control_address).errors_per_s) : "–") },
      { label: "cutover", value: (p) => (p.cutover && p.cutover.id ? `${p.cutover.id}: ${p.cutover.status}` : "") },
    ], proxies, "no proxies configured or discovered"));
}
