// Small DOM helpers. Everything from the server goes in as text (textContent or
// setAttribute), never as markup.

const SVG_NS = "http://www.w3.org/2000/svg";

/** Create an element: el("li", {class: "x", "data-id": 3}, "text", child, ...). */
export function el(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** The same for SVG elements. */
export function svg(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

function fill(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace all children of `node`. */
export function replaceChildren(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/** "{name} is {n}" with values; unknown names stay as they are. */
export function format(template, values) {
  return String(template).replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(values || {}, name) ? String(values[name]) : whole,
  );
}

/** A moment as a clock shows it: H:MM:SS (1:00:00 for t = 3600). */
export function clockTime(value) {
  const total = Math.max(0, Math.round(Number(value) || 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

/** How far a seek that runs in slices got (lab.progress, classroom.progress), as text. */
export function progressText(i18n, msg) {
  const span = msg.target - msg.from;
  const done = span > 0 ? (msg.t - msg.from) / span : 1;
  const percent = Math.max(0, Math.min(99, Math.floor(done * 100)));
  return format(i18n.t("advancing"), { target: clockTime(msg.target), percent });
}

/** Seconds as the page shows them: whole seconds, or one decimal when needed. */
export function seconds(value) {
  const n = Number(value) || 0;
  const rounded = Math.round(n * 10) / 10;
  return Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(1);
}

/** Set text only when it changed (keeps screen readers and selection calm). */
export function setText(node, text) {
  const value = text === null || text === undefined ? "" : String(text);
  if (node.textContent !== value) node.textContent = value;
}
