// <TextArea>: free text. While the annotator types, page shortcuts are off (keyboard.js): Enter is a new line,
// Ctrl/Cmd+Enter submits, Esc leaves the field. E moves the focus into it (with several, into the next one).
// With value="$field" (or literal text) the field starts pre-filled, a rewrite of that response; the pre-fill is
// the answer until the annotator changes it, so an untouched one is submitted as it stands (as Label Studio does),
// and clearing the field leaves no answer.
import { el, kbd } from "../dom.js";
import { registerControl } from "../registry.js";
import { panel } from "./common.js";

const FOCUS_KEY = "e";
const fields = []; // every TextArea on the page, in the order built: E walks them

export class TextAreaControl {
  constructor(control, { store }) {
    this.control = control;
    this.store = store;
    this.prefill = "";
    fields.push(this);
  }

  get options() {
    return this.control.options || {};
  }

  mount(container) {
    this.field = el("textarea", {
      class: "textarea", rows: this.options.rows || 3, "aria-label": this.control.name,
      placeholder: this.options.placeholder || "Type here…", oninput: () => this.#changed(),
      onfocus: () => (this.lastFocused = performance.now()),
    });
    this.status = el("p", { class: "textarea-status", hidden: true });
    const keys = el("span", { class: "textarea-keys" }, kbd(FOCUS_KEY), " write · ", kbd("Escape"), " leave · ",
      kbd("Ctrl+Enter"), " submit");
    const hint = el("span", {}, keys, this.control.required ? " · required" : "");
    container.append(panel(this.control, hint, this.field, this.status));
  }

  /** One E for all text fields (the first one binds it): two controls never fight over a key. */
  shortcuts() {
    if (fields[0] !== this) return [];
    const label = fields.length > 1 ? "Write in a text field (press again from outside for the next one)" : `Write in ${this.control.name}`;
    return [{ group: "Text", keys: [FOCUS_KEY], label, run: () => focusNextField() }];
  }

  /** The pre-fill for this task: the task field its value="$field" names, or its literal text. */
  show(task) {
    const field = this.options.value_field;
    const text = field ? task.data?.[field] : this.options.value_text;
    this.prefill = typeof text === "string" ? text : "";
  }

  howToAnswer() {
    return this.prefill ? "write an answer (or keep the text it starts with)" : "write an answer";
  }

  focusTarget() {
    return this.field;
  }

  focus() {
    this.field.focus();
  }

  #changed() {
    const text = this.field.value;
    const item = this.#item();
    const options = { coalesce: `text:${this.control.name}`, source: this };
    if (!text) {
      if (item) this.store.remove(item.id, options);
    } else if (item) {
      this.store.updateValue(item.id, { text: [text] }, options);
    } else {
      this.store.add(this.#newItem(text), options);
    }
    this.#renderStatus();
  }

  #item() {
    return this.store.itemsOf(this.control.name)[0];
  }

  #newItem(text) {
    return { from_name: this.control.name, to_name: this.control.toName, type: "textarea", value: { text: [text] } };
  }

  render(event) {
    // A task just loaded with no answer of this control's: its pre-fill is the answer it starts with.
    if (event?.kind === "load" && this.prefill && !this.#item()) this.store.seed(this.#newItem(this.prefill));
    if (event?.source === this) return; // the field already shows what was typed
    const item = this.#item();
    this.field.value = item ? item.value.text.join("\n") : "";
    this.field.classList.toggle("suggested", Boolean(item && this.store.isSuggested(item.id)));
    this.#renderStatus();
  }

  #renderStatus() {
    this.status.hidden = !this.prefill;
    if (!this.prefill) return;
    const text = this.field.value;
    this.status.dataset.state = text === this.prefill ? "unchanged" : text ? "edited" : "empty";
    this.status.textContent = text === this.prefill ? "Pre-filled with the response: unchanged, submitted as it is."
      : text ? "Edited: your rewrite is the answer." : "Empty: nothing is submitted for it.";
  }
}

/** Focus the text field after the one focused last (the first when none was), so E walks them in turn. */
function focusNextField() {
  const last = fields.reduce((latest, field) => ((field.lastFocused || 0) > (latest?.lastFocused || 0) ? field : latest), null);
  const next = last ? fields[(fields.indexOf(last) + 1) % fields.length] : fields[0];
  next.focus();
}

registerControl("textarea", TextAreaControl);
