// <Labels>: spans of a <Text> labelled by key or by the palette; the text view draws them and reads the selection.
import { registerControl } from "../registry.js";
import { LabelsControl } from "./common.js";

/** A <Labels> control: its palette, the key of each label, the active label for the next selection. */
export class SpanLabelsControl extends LabelsControl {
  constructor(control, context) {
    super(control, context, "select text, then a label");
  }

  get kindName() {
    return "span label";
  }

  howToAnswer() {
    return "label at least one span of text";
  }

  /** A label key: label the selected text; else relabel the selected span; else arm the label for the next selection. */
  press(label) {
    for (const view of this.views) {
      const range = view.selectedRange();
      if (range) return view.addSpan(this, range, label);
    }
    if (this.relabelSelected(label)) return;
    this.active = this.active === label ? null : label;
    this.render();
  }

  /** Escape disarms the label waiting for the next selection. */
  escape() {
    if (!this.active) return;
    this.active = null;
    this.render();
  }

  regionDetail(item) {
    return `“${item.value.text}”`;
  }
}

registerControl("labels", SpanLabelsControl);
