// <Paragraphs>: a chat transcript, one bubble per message headed by its speaker; the user's turns on the right,
// the assistant's on the left, system and tool turns across. Contents are model text, shown as sanitised
// Markdown. A long dialogue scrolls in its own pane, opened at its last turn (the one the responses answer).
import { el, kbd } from "../dom.js";
import { renderMarkdown } from "../markdown.js";
import { registerObject } from "../registry.js";
import { speakerSide } from "../speakers.js";

const SCROLL_SHARE = 0.8; // of the pane's height per key press: the last lines stay on screen for context

export class ParagraphsView {
  constructor(object, { store }) {
    this.object = object;
    this.store = store;
  }

  /** The dialogue keys scroll every dialogue of the page at once. */
  static shortcuts(views) {
    const each = (direction) => () => views.forEach((view) => view.scrollBy(direction));
    return [
      { group: "Dialogue", keys: ["Shift+ArrowDown"], label: "Scroll the dialogue down", run: each(1), repeat: true },
      { group: "Dialogue", keys: ["Shift+ArrowUp"], label: "Scroll the dialogue up", run: each(-1), repeat: true },
    ];
  }

  mount(container) {
    const { name, options = {} } = this.object;
    this.pane = el("div", {
      class: "dialogue-pane", "data-object": name, tabindex: "0", role: "log", "aria-label": `Dialogue ${name}`,
    });
    this.count = el("span", { class: "dialogue-count" });
    container.append(el("div", { class: `object-frame dialogue-frame layout-${options.layout || "dialogue"}` },
      el("div", { class: "dialogue-head" }, this.count,
        el("span", { class: "panel-hint" }, kbd("Shift+ArrowUp"), kbd("Shift+ArrowDown"), " scroll")),
      this.pane));
  }

  show(task) {
    const value = task.data[this.object.field];
    const messages = Array.isArray(value) ? value : [];
    this.count.textContent = `${messages.length} message${messages.length === 1 ? "" : "s"}`;
    this.pane.replaceChildren(...messages.map((message) => this.#bubble(message)));
    this.pane.scrollTop = this.pane.scrollHeight;
  }

  render() {} // a dialogue carries no regions: nothing on it changes with the answer

  scrollBy(direction) {
    this.pane.scrollBy({ top: direction * this.pane.clientHeight * SCROLL_SHARE });
  }

  #bubble(message) {
    const { name_key: nameKey = "author", text_key: textKey = "text" } = this.object.options || {};
    const speaker = String(message?.[nameKey] ?? "");
    const side = speakerSide(speaker);
    return el("article", { class: `message message-${side}`, "data-speaker": speaker },
      el("header", { class: "message-speaker" }, speaker || "(unnamed)"),
      el("div", { class: "message-body markdown" }, renderMarkdown(String(message?.[textKey] ?? ""))));
  }
}

registerObject("paragraphs", ParagraphsView);
