// <Text>: the task's text, with the spans of the <Labels> controls pointing at it highlighted in their label's
// colour (overlaps stack as underlines), selected with the mouse and labelled by key or by the palette.
//
// Offsets in results are Python string indices, i.e. code points; the DOM counts UTF-16 units. An emoji is one
// code point and two units, so every offset crosses `CodePoints` on its way in and out.
// With markdown="true" (model responses) the text is shown as sanitised Markdown instead; the server refuses spans
// on such a text, since their offsets would not map onto what is on screen.
import { colourOf } from "../controls/common.js";
import { el } from "../dom.js";
import { renderMarkdown } from "../markdown.js";
import { registerObject } from "../registry.js";

export class CodePoints {
  constructor(text) {
    this.text = text;
    this.unitOf = [0]; // code point index -> UTF-16 offset
    let units = 0;
    for (const char of text) {
      units += char.length;
      this.unitOf.push(units);
    }
    this.pointOf = new Int32Array(units + 1); // UTF-16 offset -> code point index (a low surrogate rounds down)
    for (let point = 0, unit = 0; unit <= units; unit++) {
      if (unit > this.unitOf[point + 1]) point++;
      this.pointOf[unit] = unit === this.unitOf[point + 1] ? point + 1 : point;
    }
  }
  get length() {
    return this.unitOf.length - 1;
  }
  slice(start, end) {
    return this.text.slice(this.unitOf[start], this.unitOf[end]);
  }
}

export class TextView {
  constructor(object, { store }) {
    this.object = object;
    this.store = store;
    this.controls = []; // the <Labels> controls drawing spans on this text
    this.points = new CodePoints("");
  }

  attach(labelsControl) {
    this.controls.push(labelsControl);
  }

  mount(container) {
    this.root = el("div", { class: "text-object", "data-object": this.object.name, lang: "" });
    this.root.addEventListener("mouseup", () => setTimeout(() => this.#mouseUp(), 0));
    this.root.addEventListener("click", (event) => this.#click(event));
    container.append(el("div", { class: "object-frame text-frame" }, this.root));
  }

  show(task) {
    const text = task.data[this.object.field];
    this.points = new CodePoints(typeof text === "string" ? text : "");
    if (this.markdown) {
      this.root.classList.add("markdown");
      this.root.replaceChildren(renderMarkdown(this.points.text));
      return;
    }
    this.render();
  }

  get markdown() {
    return Boolean(this.object.options?.markdown);
  }

  spans() {
    const names = new Set(this.controls.map((control) => control.control.name));
    return this.store.items.filter((item) => item.type === "labels" && names.has(item.from_name));
  }

  /** The spans in reading order, as the region list shows them and the arrow keys walk them. */
  regions() {
    return this.spans().sort((a, b) => a.value.start - b.value.start || a.value.end - b.value.end);
  }

  /** The window's text selection inside this text, in code points, without surrounding white space. */
  selectedRange() {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
    const range = selection.getRangeAt(0);
    if (!this.root.contains(range.startContainer) || !this.root.contains(range.endContainer)) return null;
    let start = this.points.pointOf[this.#unitOffset(range.startContainer, range.startOffset)];
    let end = this.points.pointOf[this.#unitOffset(range.endContainer, range.endOffset)];
    const text = this.points;
    while (start < end && /\s/u.test(text.slice(start, start + 1))) start++;
    while (end > start && /\s/u.test(text.slice(end - 1, end))) end--;
    return start < end ? { start, end } : null;
  }

  addSpan(labelsControl, { start, end }, label) {
    const { control } = labelsControl;
    window.getSelection().removeAllRanges();
    this.store.add({
      from_name: control.name, to_name: control.toName, type: "labels",
      value: { start, end, text: this.points.slice(start, end), labels: [label] },
    });
  }

  #unitOffset(node, offset) {
    const range = document.createRange();
    range.setStart(this.root, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  #mouseUp() {
    const range = this.selectedRange();
    if (!range) return;
    const armed = this.controls.find((control) => control.active);
    if (armed) this.addSpan(armed, range, armed.active);
  }

  #click(event) {
    if (!window.getSelection().isCollapsed) return; // the end of a drag-selection, not a click
    const target = event.target.closest("[data-region], [data-regions]");
    if (!target) return this.store.select(null);
    if (target.dataset.region) return this.store.select(target.dataset.region);
    // A highlighted stretch: pick the innermost span; clicking again walks outwards through the overlaps.
    const ids = target.dataset.regions.split(" ");
    const current = ids.indexOf(this.store.selectedId);
    this.store.select(ids[(current + 1) % ids.length]);
  }

  colourOf(item) {
    const owner = this.controls.find((control) => control.control.name === item.from_name);
    return owner ? colourOf(owner.control, item.value.labels[0]) : "#64748b";
  }

  render() {
    if (this.markdown) return; // no spans to draw, and redrawing would put back the raw text
    const spans = this.spans().sort((a, b) => a.value.start - b.value.start || b.value.end - a.value.end);
    const cuts = new Set([0, this.points.length]);
    for (const span of spans) cuts.add(span.value.start).add(span.value.end);
    const ordered = [...cuts].sort((a, b) => a - b);
    const pieces = [];
    for (let index = 0; index < ordered.length - 1; index++) {
      const [from, to] = [ordered[index], ordered[index + 1]];
      const covering = spans.filter((span) => span.value.start <= from && span.value.end >= to)
        .sort((a, b) => (a.value.end - a.value.start) - (b.value.end - b.value.start)); // innermost first
      pieces.push(this.#segment(from, to, covering));
      for (const span of spans.filter((candidate) => candidate.value.end === to)) pieces.push(this.#chip(span));
    }
    this.root.replaceChildren(...pieces);
  }

  #segment(from, to, covering) {
    const text = this.points.slice(from, to);
    if (!covering.length) return document.createTextNode(text);
    const colours = covering.map((span) => this.colourOf(span));
    // Innermost span tints the background; every span adds an underline, stacked below one another.
    const shadows = colours.map((colour, depth) => `inset 0 -${2 + depth * 3}px 0 ${colour}`).reverse();
    const selected = covering.some((span) => span.id === this.store.selectedId);
    const suggested = covering.every((span) => this.store.isSuggested(span.id));
    return el("mark", {
      class: ["span", selected && "selected", suggested && "suggested"].filter(Boolean).join(" "),
      "data-regions": covering.map((span) => span.id).join(" "),
      style: { "--label": colours[0], boxShadow: shadows.join(", "), paddingBottom: `${covering.length * 3 - 1}px` },
    }, text);
  }

  #chip(span) {
    const selected = span.id === this.store.selectedId;
    return el("span", {
      class: ["span-chip", selected && "selected", this.store.isSuggested(span.id) && "suggested"].filter(Boolean).join(" "),
      "data-region": span.id, "data-label": span.value.labels.join(", "), style: { "--label": this.colourOf(span) },
      title: `${span.value.labels.join(", ")}: “${span.value.text}” (click to select, Delete to remove)`,
    });
  }
}

registerObject("text", TextView);
