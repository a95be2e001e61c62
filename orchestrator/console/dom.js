// Building the page from data: every text goes in as text (never parsed as HTML), so nothing a
// proxy reports can become markup.

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A table from columns ({label, value(row), class}) and rows; `id` names it for tests and links.
export function table(id, columns, rows, empty = "nothing to show") {
  const head = el("tr", {}, columns.map((c) => el("th", { class: c.class, scope: "col" }, c.label)));
  const body = rows.length
    ? rows.map((row) => el("tr", {}, columns.map((c) => {
        const v = c.value(row);
        return el("td", { class: c.class }, v instanceof Node ? v : (v ?? ""));
      })))
    : [el("tr", {}, el("td", { colspan: columns.length }, empty))];
  return el("table", { id }, el("thead", {}, head), el("tbody", {}, body));
}

export function figure(label, value, id) {
  return el("div", { class: "figure", id }, el("div", { class: "value" }, value), el("div", { class: "label" }, label));
}

export function message(text, isError = false) {
  return el("div", { class: isError ? "message error" : "message", role: isError ? "alert" : undefined }, text);
}

export const rate = (n) => (n >= 100 ? Math.round(n).toString() : (Math.round(n * 10) / 10).toString());
export const ms = (n) => (n ? `${n >= 10 ? Math.round(n) : Math.round(n * 100) / 100} ms` : "–");
export const percent = (n) => `${Math.round(n * 10000) / 100}%`;
export const clock = (ns) => (ns ? new Date(ns / 1e6).toLocaleTimeString() : "");
export const when = (ns) => (ns ? new Date(ns / 1e6).toLocaleString() : "");
