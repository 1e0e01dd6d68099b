// <Pairwise>: the two texts it names side by side (stacked on narrow screens), and which one is better, or a tie.
// Against position bias the server may show an annotator the two the other way round (`presentation.swap`): the
// keys and buttons act on what is on screen, and the stored `selected` always names the task's own order
// (left = the first object of toName), so a swapped page translates every press before it is stored.
// D (or the button) shows a word-level diff in place of the two texts: in each pane, the words the other lacks
// are marked, built as text nodes and <del>/<ins> elements, never as HTML.
import { el, kbd } from "../dom.js";
import { registerControl } from "../registry.js";
import { panel } from "./common.js";
import { differs, wordDiff } from "./pairwise-diff.js";

const SIDES = ["left", "right"]; // the task's own order: SIDES[i] is the i-th object of toName
const KEYS = [["1", "ArrowLeft"], ["2", "ArrowRight"]]; // by position on screen
const TIE_KEY = "t";
const DIFF_KEY = "d";

await loadStylesheet(new URL("../../css/controls/pairwise.css", import.meta.url));

export class PairwiseControl {
  constructor(control, { store, objects }) {
    this.control = control;
    this.store = store;
    this.objects = objects;
    this.task = null;
    this.diffShown = false;
    this.diffMs = null; // how long the last diff took to compute and build, for the page's benchmark
    this.objectNames = control.toName.split(",").map((name) => name.trim());
    this.allowTie = Boolean(control.options?.allow_tie);
    this.swapped = false;
    this.frame = null;
  }

  get kindName() {
    return "preference";
  }

  /** Its two objects mount side by side in its own frame, placed where the first of them is in the config. */
  placeObject(name, canvas) {
    const index = this.objectNames.indexOf(name);
    if (index === -1) return null;
    if (!this.frame) this.#buildFrame(canvas);
    return this.sides[index].body;
  }

  #buildFrame(canvas) {
    this.sides = this.objectNames.map((name, index) => {
      const position = el("span", { class: "pairwise-position" });
      const keys = el("span", { class: "pairwise-keys" });
      const pick = el("button", {
        type: "button", class: "btn btn-small pairwise-pick", "aria-pressed": "false", onclick: () => this.choose(SIDES[index]),
      }, "This one is better", keys);
      const body = el("div", { class: "pairwise-body" });
      const diff = el("div", { class: "pairwise-diff", hidden: true, "aria-live": "polite" });
      const root = el("section", { class: "pairwise-side", "data-side": SIDES[index] },
        el("header", { class: "pairwise-head" }, position, el("span", { class: "pairwise-badge" }), pick), body, diff);
      return { name, root, body, diff, position, keys, pick };
    });
    this.frame = el("div", { class: "pairwise", "data-control": this.control.name }, this.sides.map((side) => side.root));
    canvas.append(this.frame);
  }

  mount(container) {
    const hint = [this.allowTie ? "pick the better one, or a tie" : "pick the better one", this.control.required && "required"]
      .filter(Boolean).join(" · ");
    this.buttons = [0, 1].map((shown) => el("button", {
      type: "button", class: "choice pairwise-choice", role: "radio", "aria-checked": "false", "data-shown": String(shown),
      style: { "--label": "var(--accent)" }, onclick: () => this.pressShown(shown),
    }, el("span", { class: "choice-mark" }), el("span", { class: "label-name" }, `Response ${shown + 1} is better`),
    KEYS[shown].map(kbd)));
    if (this.allowTie) {
      this.buttons.push(el("button", {
        type: "button", class: "choice pairwise-choice", role: "radio", "aria-checked": "false", "data-tie": "",
        style: { "--label": "var(--accent)" }, onclick: () => this.choose("tie"),
      }, el("span", { class: "choice-mark" }), el("span", { class: "label-name" }, "Tie: equally good"), kbd(TIE_KEY)));
    }
    this.diffButton = el("button", {
      type: "button", class: "btn btn-small pairwise-diff-toggle", "aria-pressed": "false", onclick: () => this.toggleDiff(),
    }, "Show differences", kbd(DIFF_KEY));
    this.diffLegend = el("p", { class: "pairwise-diff-legend", hidden: true },
      el("del", {}, "struck"), " only in Response 1 · ", el("ins", {}, "underlined"), " only in Response 2");
    container.append(panel(this.control, hint, el("div", { class: "choices", role: "radiogroup" }, this.buttons),
      el("div", { class: "pairwise-tools" }, this.diffButton, this.diffLegend)));
  }

  /** The server's word on how to show this task; a task without one (an earlier one reopened) is not swapped. */
  show(task) {
    this.swapped = Boolean(task.presentation?.[this.control.name]?.swap);
    this.task = task;
    if (!this.frame) return;
    this.frame.replaceChildren(...this.#shownOrder().map((index) => this.sides[index].root));
    this.frame.dataset.swapped = String(this.swapped);
    if (this.diffShown) this.#renderDiff();
  }

  /** Show the word-level diff in place of the two texts, or the texts again; it stays on from task to task. */
  toggleDiff() {
    this.diffShown = !this.diffShown;
    this.diffButton?.setAttribute("aria-pressed", String(this.diffShown));
    if (this.diffLegend) this.diffLegend.hidden = !this.diffShown;
    if (this.diffButton) this.diffButton.firstChild.textContent = this.diffShown ? "Hide differences" : "Show differences";
    if (this.diffShown) this.#renderDiff();
    for (const side of this.sides || []) {
      side.body.hidden = this.diffShown;
      side.diff.hidden = !this.diffShown;
    }
  }

  /** Each pane's text as pieces, in on-screen order: Response 1's own words are <del>, Response 2's are <ins>. */
  #renderDiff() {
    if (!this.frame || !this.task) return;
    const started = performance.now();
    const [first, second] = this.#shownOrder().map((index) => this.sides[index]);
    const pieces = wordDiff(this.#textOf(first), this.#textOf(second));
    const same = differs(pieces) ? null : el("p", { class: "pairwise-diff-same" }, "The two responses are the same.");
    first.diff.replaceChildren(...diffNodes(pieces.first, "del"), same || "");
    second.diff.replaceChildren(...diffNodes(pieces.second, "ins"), same ? same.cloneNode(true) : "");
    this.diffMs = performance.now() - started;
    this.frame.dataset.diffMs = this.diffMs.toFixed(1);
  }

  #textOf(side) {
    const field = this.objects?.(side.name)[0]?.object.field;
    const text = field ? this.task.data?.[field] : "";
    return typeof text === "string" ? text : "";
  }

  /** Task-order indices in the order they are on screen. */
  #shownOrder() {
    return this.swapped ? [1, 0] : [0, 1];
  }

  shortcuts() {
    const group = `${this.control.name} (${this.kindName})`;
    const shortcuts = [0, 1].map((shown) => ({
      group, keys: KEYS[shown], label: `Response ${shown + 1} (${shown ? "right, or below" : "left, or above"}) is better`,
      run: () => this.pressShown(shown),
    }));
    if (this.allowTie) shortcuts.push({ group, keys: [TIE_KEY], label: "A tie: both are equally good", run: () => this.choose("tie") });
    shortcuts.push({ group, keys: [DIFF_KEY], label: "Show or hide the differences between the two", run: () => this.toggleDiff() });
    return shortcuts;
  }

  /** A key or button for the response at this position on screen: stored as the task's own side. */
  pressShown(shown) {
    this.choose(SIDES[this.#shownOrder()[shown]]);
  }

  choose(selected) {
    const item = this.item();
    if (!item) {
      this.store.add({ from_name: this.control.name, to_name: this.control.toName, type: "pairwise", value: { selected } });
    } else if (item.value.selected !== selected || this.store.isSuggested(item.id)) {
      this.store.updateValue(item.id, { selected }); // a suggestion confirmed or changed becomes the annotator's own
    }
  }

  item() {
    return this.store.itemsOf(this.control.name)[0];
  }

  submits(item) {
    return this.answers(item);
  }

  /** Its value is one word, not a list: the page's default test of an answer would never see it. */
  answers(item) {
    return [...SIDES, "tie"].includes(item.value?.selected);
  }

  howToAnswer() {
    return this.allowTie ? "pick the better response, or a tie" : "pick the better response";
  }

  focusTarget() {
    return this.buttons[0];
  }

  render() {
    const item = this.item();
    const selected = item?.value.selected;
    const suggested = Boolean(item && this.store.isSuggested(item.id));
    this.#renderSides(selected, suggested);
    for (const button of this.buttons) {
      const on = "tie" in button.dataset ? selected === "tie" : selected === SIDES[this.#shownOrder()[Number(button.dataset.shown)]];
      button.setAttribute("aria-checked", String(on));
      button.classList.toggle("suggested", on && suggested);
    }
  }

  #renderSides(selected, suggested) {
    if (!this.frame) return;
    this.#shownOrder().forEach((index, shown) => {
      const side = this.sides[index];
      const chosen = selected === SIDES[index];
      side.position.textContent = `Response ${shown + 1}`;
      side.keys.replaceChildren(...KEYS[shown].map(kbd));
      side.pick.setAttribute("aria-pressed", String(chosen));
      side.root.classList.toggle("chosen", chosen);
      side.root.classList.toggle("tied", selected === "tie");
      side.root.classList.toggle("suggested", suggested && (chosen || selected === "tie"));
      side.root.querySelector(".pairwise-badge").textContent = chosen ? "Better" : selected === "tie" ? "Tie" : "";
    });
  }
}

/** A diff's pieces as nodes: text as text, the words only this side has inside `markTag` (del or ins). */
function diffNodes(pieces, markTag) {
  return pieces.map((piece) => (piece.changed ? el(markTag, { class: "diff-mark" }, piece.text) : document.createTextNode(piece.text)));
}

/** The control's own styles, in place before the page is built (the page waits for this module). */
function loadStylesheet(url) {
  const link = el("link", { rel: "stylesheet", href: url.href });
  const loaded = new Promise((resolve) => {
    link.addEventListener("load", resolve);
    link.addEventListener("error", resolve); // unstyled beats unusable
  });
  document.head.append(link);
  return loaded;
}

registerControl("pairwise", PairwiseControl);
