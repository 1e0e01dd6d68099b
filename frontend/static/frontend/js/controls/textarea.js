// <TextArea>: free text. While the annotator types, page shortcuts are off (keyboard.js); Esc leaves the field.
import { el } from "../dom.js";
import { registerControl } from "../registry.js";
import { panel } from "./common.js";

export class TextAreaControl {
  constructor(control, { store }) {
    this.control = control;
    this.store = store;
  }

  mount(container) {
    this.field = el("textarea", {
      class: "textarea", rows: 3, "aria-label": this.control.name, placeholder: "Type here… (Esc to leave, Ctrl+Enter to submit)",
      oninput: () => this.#changed(),
    });
    container.append(panel(this.control, this.control.required ? "required" : "", this.field));
  }

  howToAnswer() {
    return "write an answer";
  }

  focusTarget() {
    return this.field;
  }

  #changed() {
    const text = this.field.value;
    const item = this.store.itemsOf(this.control.name)[0];
    const options = { coalesce: `text:${this.control.name}`, source: this };
    if (!text) {
      if (item) this.store.remove(item.id, options);
    } else if (item) {
      this.store.updateValue(item.id, { text: [text] }, options);
    } else {
      this.store.add({ from_name: this.control.name, to_name: this.control.toName, type: "textarea", value: { text: [text] } }, options);
    }
  }

  render(event) {
    if (event?.source === this) return; // the field already shows what was typed
    const item = this.store.itemsOf(this.control.name)[0];
    this.field.value = item ? item.value.text.join("\n") : "";
    this.field.classList.toggle("suggested", Boolean(item && this.store.isSuggested(item.id)));
  }
}

registerControl("textarea", TextAreaControl);
