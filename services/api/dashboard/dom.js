// Small DOM helpers. Every string becomes a text node or an attribute value, never markup, so
// names, URLs and messages that came from users cannot inject HTML (no HTML parsing at all).

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An element with attributes (`class`, `aria-*`, `data-*`, …) and children (nodes or text). */
export function h(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** The same for SVG elements. */
export function s(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

function fill(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  }
  return el;
}

/** Sets text only when it changed (keeps selection and avoids needless layout). */
export function setText(el, text) {
  const t = text === undefined || text === null ? '' : String(text);
  if (el.textContent !== t) el.textContent = t;
}

/** Sets or removes an attribute only when it changed. */
export function setAttr(el, name, value) {
  if (value === undefined || value === null || value === false) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
    return;
  }
  const v = value === true ? '' : String(value);
  if (el.getAttribute(name) !== v) el.setAttribute(name, v);
}

export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el;
}

/** Local time of day, `HH:MM:SS`. */
export function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}
