// Small DOM helpers the controls share.
import { keyLabel } from "../keyboard.js";

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

/** A control's panel in the sidebar: a title (its name) and a body. */
export function panel(control, hint, ...body) {
  return el("section", { class: "panel", "data-control": control.name },
    el("header", { class: "panel-head" }, el("h3", {}, control.name), hint ? el("span", { class: "panel-hint" }, hint) : null),
    ...body);
}

/** The label buttons of a Labels or RectangleLabels control; the active one is pressed. */
export function labelPalette(control, onPick) {
  return el("div", { class: "label-palette" }, control.values.map((entry) =>
    el("button", {
      type: "button", class: "label-button", "data-value": entry.value, style: { "--label": entry.colour },
      onclick: () => onPick(entry.value), "aria-pressed": "false",
    }, el("span", { class: "swatch" }), el("span", { class: "label-name" }, entry.value), kbd(entry.key))));
}

export function colourOf(control, label) {
  return control.values.find((entry) => entry.value === label)?.colour || "#64748b";
}

/** What <Labels> and <RectangleLabels> share: a palette in the sidebar, an active label, relabelling by key. */
export class LabelsControl {
  constructor(control, { store }, hint) {
    this.control = control;
    this.store = store;
    this.hint = hint;
    this.active = null;
    this.view = null; // the object view of control.toName, set by the page
  }

  mount(container) {
    this.palette = labelPalette(this.control, (label) => this.press(label));
    container.append(panel(this.control, [this.hint, this.control.required && "required"].filter(Boolean).join(" · "), this.palette));
    this.render();
  }

  /** Where a required-control message sends the focus. */
  focusTarget() {
    return this.palette.firstElementChild;
  }

  /** Give the selected region of this control the label; false when none of its regions is selected. */
  relabelSelected(label) {
    const selected = this.store.get(this.store.selectedId);
    if (!selected || selected.from_name !== this.control.name) return false;
    this.store.updateValue(selected.id, { [this.control.type]: [label] }); // value key = result type
    return true;
  }

  render() {
    for (const button of this.palette.children) button.setAttribute("aria-pressed", String(button.dataset.value === this.active));
  }
}
