// Small DOM helpers the page, its controls and its object views share.
import { keyLabel } from "./keyboard.js";

/** el("button", {class: "x", onclick}, child, ...): an element with attributes, properties and children. */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "style" && typeof value === "object") setStyle(element, value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** Inline styles, custom properties ("--label") included, which Object.assign on .style would drop. */
export function setStyle(element, styles) {
  for (const [property, value] of Object.entries(styles)) {
    if (value === undefined || value === null) continue;
    if (property.startsWith("--")) element.style.setProperty(property, value);
    else element.style[property] = value;
  }
}

export function kbd(combo) {
  return combo ? el("kbd", {}, keyLabel(combo)) : null;
}

/** Load a module's own stylesheet once (a URL relative to the module: new URL("../../css/x.css", import.meta.url)). */
export function stylesheet(url) {
  const href = String(url);
  if (document.querySelector(`link[rel=stylesheet][href="${CSS.escape(href)}"]`)) return;
  document.head.append(el("link", { rel: "stylesheet", href }));
}
