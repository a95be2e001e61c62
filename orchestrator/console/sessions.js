// Sessions: `connections list` of every proxy, filtered in the page. Statements are shown as the
// proxies normalize them: literals are never in the data.

import { get } from "./api.js";
import { el, message, table } from "./dom.js";

export const title = "Sessions";
const kFilters = [["proxy", "control_address"], ["user", "user"], ["database", "database"], ["state", "state"]];
const chosen = { proxy: "", user: "", database: "", state: "" };
let last = null;
let selects = null;  // made once: a refresh must not close a list the operator has open

export function unmount() {
  selects = null;
}

// Offers the values now present (and the one chosen, even if gone), touching the list only when
// they changed.
function offer(select, values, current) {
  const wanted = ["", ...[...new Set(values.concat(current ? [current] : []))].sort()];
  const have = [...select.options].map((o) => o.value);
  if (wanted.join("\n") === have.join("\n")) return;
  select.replaceChildren(...wanted.map((v) => el("option", { value: v, selected: v === current }, v || "all")));
}

function showRows() {
  const { connections, errors } = last;
  const shown = connections.filter((c) => kFilters.every(([name, key]) => !chosen[name] || c[key] === chosen[name]));
  for (const [name, key] of kFilters) offer(selects[name], connections.map((c) => c[key]), chosen[name]);
  document.getElementById("sessions-body").replaceChildren(
    ...errors.map((e) => message(`${e.control_address}: ${e.error}`, true)),
    el("p", { id: "sessions-count" }, `${shown.length} of ${connections.length} sessions`),
    table("sessions", [
      { label: "proxy", value: (c) => c.control_address },
      { label: "client", value: (c) => c.remote_address },
      { label: "user", value: (c) => c.user },
      { label: "database", value: (c) => c.database },
      { label: "served by", value: (c) => c.source_of_truth },
      { label: "state", value: (c) => c.state },
      { label: "last statement", class: "statement", value: (c) => c.last_query },
      { label: "shadowed", class: "num", value: (c) => (c.shadow ? c.shadow.sent : 0) },
      { label: "last error", class: "error-text", value: (c) => c.error },
    ], shown, "no sessions"));
}

export async function render(root) {
  last = await get("/v1/connections");
  if (!selects) {
    selects = {};
    const labels = kFilters.map(([name]) => {
      selects[name] = el("select", { id: `filter-${name}`, onchange: (e) => { chosen[name] = e.target.value; showRows(); } });
      return el("label", {}, name, selects[name]);
    });
    root.replaceChildren(el("h1", {}, "Sessions"), el("div", { class: "filters" }, labels), el("div", { id: "sessions-body" }));
  }
  showRows();
}
