// <Choices>: single or multiple choice, one button per <Choice>, each with its key. One result item per control.
import { el, kbd, panel } from "./common.js";

export class ChoicesControl {
  constructor(control, { store }) {
    this.control = control;
    this.store = store;
  }

  mount(container) {
    const hint = this.control.multiple ? "pick any" : "pick one";
    this.buttons = this.control.values.map((entry) =>
      el("button", {
        type: "button", class: "choice", "data-value": entry.value, style: { "--label": entry.colour },
        role: this.control.multiple ? "checkbox" : "radio", "aria-checked": "false",
        onclick: () => this.press(entry.value),
      }, el("span", { class: "choice-mark" }), el("span", { class: "label-name" }, entry.value), kbd(entry.key)));
    container.append(panel(this.control, hint, el("div", { class: "choices", role: this.control.multiple ? "group" : "radiogroup" }, this.buttons)));
  }

  item() {
    return this.store.itemsOf(this.control.name)[0];
  }

  /** Toggle a choice; in a single-choice control picking one replaces the other. */
  press(value) {
    const item = this.item();
    const chosen = item ? item.value.choices : [];
    let next;
    if (chosen.includes(value)) next = chosen.filter((choice) => choice !== value);
    else next = this.control.multiple ? [...chosen, value] : [value];
    if (item) {
      if (next.length) this.store.updateValue(item.id, { choices: next });
      else this.store.remove(item.id);
    } else {
      this.store.add({ from_name: this.control.name, to_name: this.control.toName, type: "choices", value: { choices: next } });
    }
  }

  render() {
    const item = this.item();
    const chosen = new Set(item ? item.value.choices : []);
    const suggested = item && this.store.isSuggested(item.id);
    for (const button of this.buttons) {
      const on = chosen.has(button.dataset.value);
      button.setAttribute("aria-checked", String(on));
      button.classList.toggle("suggested", Boolean(on && suggested));
    }
  }
}
