// What the controls share: a sidebar panel, the keys of a control's values, and the label palette and relabelling
// of <Labels> and <RectangleLabels>.
import { el, kbd } from "../dom.js";

/** A control's panel in the sidebar: a title (its name) and a body. */
export function panel(control, hint, ...body) {
  return el("section", { class: "panel", "data-control": control.name },
    el("header", { class: "panel-head" }, el("h3", {}, control.name), hint ? el("span", { class: "panel-hint" }, hint) : null),
    ...body);
}

/** One shortcut per value with a key (a choice, a label): the key presses it. Listed under the control's name. */
export function valueShortcuts(instance) {
  const { control } = instance;
  return control.values.filter((entry) => entry.key).map((entry) => ({
    group: `${control.name} (${instance.kindName})`, keys: [entry.key], label: entry.value, run: () => instance.press(entry.value),
  }));
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

/** What <Labels> and <RectangleLabels> share: a palette in the sidebar, an active label, relabelling by key,
 *  regions drawn on the object views their toName names (each view is told, and draws this control's regions). */
export class LabelsControl {
  constructor(control, { store, objects }, hint) {
    this.control = control;
    this.store = store;
    this.hint = hint;
    this.active = null;
    this.views = objects(control.toName);
    for (const view of this.views) view.attach(this);
  }

  mount(container) {
    this.palette = labelPalette(this.control, (label) => this.press(label));
    container.append(panel(this.control, [this.hint, this.control.required && "required"].filter(Boolean).join(" · "), this.palette));
    this.render();
  }

  shortcuts() {
    return valueShortcuts(this);
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

  /** A region's labels, for the region list. */
  regionLabels(item) {
    return item.value[this.control.type] || [];
  }

  render() {
    for (const button of this.palette.children) button.setAttribute("aria-pressed", String(button.dataset.value === this.active));
  }
}
