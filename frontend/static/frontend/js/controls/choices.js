// <Choices>: single or multiple choice, one button per <Choice>, each with its key. One result item per control.
import { el, kbd } from "../dom.js";
import { registerControl } from "../registry.js";
import { panel, valueShortcuts } from "./common.js";

export class ChoicesControl {
  constructor(control, { store }) {
    this.control = control;
    this.store = store;
  }

  mount(container) {
    const hint = [this.control.multiple ? "pick any" : "pick one", this.control.required && "required"].filter(Boolean).join(" · ");
    this.buttons = this.control.values.map((entry) =>
      el("button", {
        type: "button", class: "choice", "data-value": entry.value, style: { "--label": entry.colour },
        role: this.control.multiple ? "checkbox" : "radio", "aria-checked": "false",
        onclick: () => this.press(entry.value),
      }, el("span", { class: "choice-mark" }), el("span", { class: "label-name" }, entry.value), kbd(entry.key)));
    container.append(panel(this.control, hint, el("div", { class: "choices", role: this.control.multiple ? "group" : "radiogroup" }, this.buttons)));
  }

  get kindName() {
    return "choice";
  }

  shortcuts() {
    return valueShortcuts(this);
  }

  item() {
    return this.store.itemsOf(this.control.name)[0];
  }

  /** An item left with no choice (a prediction may carry one) is no answer and is not sent. */
  submits(item) {
    return Boolean(item.value.choices?.length);
  }

  /** A choice's key or click: see nextChoices() for what it does to a suggestion and to the annotator's own. */
  press(value) {
    const item = this.item();
    const chosen = item ? item.value.choices : [];
    const suggested = Boolean(item && this.store.isSuggested(item.id));
    const next = nextChoices(chosen, value, { multiple: this.control.multiple, required: this.control.required, suggested });
    if (item) {
      if (!next.length) this.store.remove(item.id);
      else if (suggested || !sameChoices(next, chosen)) this.store.updateValue(item.id, { choices: next }); // makes it the annotator's own
    } else {
      this.store.add({ from_name: this.control.name, to_name: this.control.toName, type: "choices", value: { choices: next } });
    }
  }

  /** For the message beside a required control left unanswered, and where it sends the focus. */
  howToAnswer() {
    return this.control.multiple ? "pick at least one choice" : "pick a choice";
  }

  focusTarget() {
    return this.buttons[0];
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

/**
 * The choices after pressing `value`'s key (or clicking it):
 * - a choice a model pre-filled is confirmed, never taken back: the press says "yes, this one" (Label Studio
 *   selects on a single-choice key too), and taking it back would leave an empty answer behind;
 * - in a single-choice control the key selects its choice; pressing the selected one again clears it only when
 *   the control is optional (required="false");
 * - in a multiple-choice control the annotator's own choices toggle.
 */
export function nextChoices(chosen, value, { multiple = false, required = false, suggested = false } = {}) {
  if (chosen.includes(value)) {
    if (suggested || (!multiple && required)) return chosen;
    return chosen.filter((choice) => choice !== value);
  }
  return multiple ? [...chosen, value] : [value];
}

function sameChoices(a, b) {
  return a.length === b.length && a.every((choice, index) => choice === b[index]);
}

registerControl("choices", ChoicesControl);
