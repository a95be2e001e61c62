// The console's shell: the view named by the URL's #fragment, refreshed every two seconds, and the
// header's source of truth and cutover banner.

import { get, inProgress, latestCutover } from "./api.js";
import * as overview from "./overview.js";
import * as sessions from "./sessions.js";
import * as readiness from "./readiness.js";
import * as cutover from "./cutover.js";
import * as history from "./history.js";
import * as metrics from "./metrics.js";
import { message } from "./dom.js";

const views = { overview, sessions, readiness, cutover, history, metrics };
const kRefreshMs = 2000;
let current = null;
let timer = null;
let rendering = false;

export function setStatus(text) {
  document.getElementById("status-line").textContent = text;
}

// Asks before a step that changes what clients see; resolves true only on the named button.
export function confirmAction(title, text, button) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = button;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "cancel";
    dialog.showModal();
    document.getElementById("confirm-cancel").focus();  // the safe choice is the default
  });
}

async function header() {
  const [status, attempt] = await Promise.all([get("/v1/status"), latestCutover()]);
  const truths = new Set(status.proxies.filter((p) => !p.error).map((p) => p.source_of_truth));
  const name = document.getElementById("truth-name");
  if (truths.size === 1) {
    const p = status.proxies.find((q) => !q.error);
    name.textContent = `${p.source_of_truth} (${p.source_of_truth_role})`;
  } else {
    name.textContent = truths.size === 0 ? "no proxy answers" : "the proxies disagree";
  }
  const banner = document.getElementById("cutover-banner");
  const running = inProgress(attempt);
  banner.className = running ? "banner active" : "banner";
  banner.textContent = running ? `Cutover ${attempt.id} in progress: ${attempt.status}` : "No cutover in progress";
}

async function refresh() {
  if (rendering || !current) return;
  rendering = true;
  const root = document.getElementById("view");
  try {
    await Promise.all([header(), current.render(root)]);
    setStatus(`updated ${new Date().toLocaleTimeString()}`);
  } catch (e) {
    setStatus(`could not update: ${e.message}`);
    if (!root.firstChild) root.replaceChildren(message(e.message, true));
  } finally {
    rendering = false;
  }
}

function show() {
  const name = (location.hash || "#overview").slice(1);
  const next = views[name] || overview;
  if (current && current.unmount) current.unmount();
  current = next;
  document.querySelectorAll("nav a").forEach((a) => {
    if (a.dataset.view === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  document.title = `${next.title}: LMS migration console`;
  document.getElementById("view").replaceChildren();
  refresh();
}

window.addEventListener("hashchange", show);
show();
timer = setInterval(refresh, kRefreshMs);
// A step taken on the Cutover view shows at once, not at the next tick.
document.addEventListener("click", (e) => {
  if (e.target.closest("button")) setTimeout(refresh, 50);
});
export const stop = () => clearInterval(timer);
