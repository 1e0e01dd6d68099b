// <List>: the task's candidate responses ([{id, title, body}]), each a card with its title and a body that scrolls
// on its own. Cards take the focus (Tab, or ↑/↓ from anywhere): a <Rating> rates the focused one by number key.
// A <Ranker> attached to the list decides the cards' order and sections (its buckets), and the list hands it the
// cards the annotator drags (native HTML5 drag and drop) or moves with a card's ▲/▼ buttons.
import { el, kbd, stylesheet } from "../dom.js";
import { registerObject } from "../registry.js";

stylesheet(new URL("../../css/objects/list.css", import.meta.url));

export class ListView {
  constructor(object, { store }) {
    this.object = object;
    this.store = store;
    this.items = [];
    this.ranker = null; // the <Ranker> ordering these cards, if any
  }

  /** A Ranker answers arrangement() -> [{key, title, ids}] and moveTo(id, sectionKey, index); others only listen. */
  attach(control) {
    if (control.arrangement) this.ranker = control;
  }

  mount(container) {
    this.root = el("div", { class: "list-object", "data-object": this.object.name, role: "list", "aria-label": this.object.name });
    this.root.addEventListener("dragstart", (event) => this.#dragStart(event));
    this.root.addEventListener("dragover", (event) => this.#dragOver(event));
    this.root.addEventListener("drop", (event) => this.#drop(event));
    this.root.addEventListener("dragend", () => this.#dragEnd());
    container.append(el("div", { class: "object-frame list-frame" }, this.root));
  }

  show(task) {
    const value = task.data[this.object.field];
    this.items = Array.isArray(value) ? value.filter((item) => item && typeof item.id === "string") : [];
    this.render();
  }

  itemById(id) {
    return this.items.find((item) => item.id === id);
  }

  /** The ids in the order shown on screen. */
  shownIds() {
    return [...this.root.querySelectorAll(".list-card")].map((card) => card.dataset.item);
  }

  /** The id of the card holding the keyboard focus, or null. */
  focusedId() {
    return document.activeElement?.closest?.(".list-card")?.dataset.item ?? null;
  }

  focusItem(id) {
    this.root.querySelector(`.list-card[data-item="${CSS.escape(id)}"]`)?.focus();
  }

  focusStep(step) {
    const ids = this.shownIds();
    if (!ids.length) return;
    const at = ids.indexOf(this.focusedId());
    const next = at === -1 ? (step > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, at + step));
    this.focusItem(ids[next]);
  }

  static shortcuts(views) {
    const focused = () => views.find((view) => view.focusedId()) || views[0];
    return [
      { group: "Responses", keys: ["ArrowDown"], label: "Focus the next response", run: () => focused().focusStep(+1), repeat: true },
      { group: "Responses", keys: ["ArrowUp"], label: "Focus the previous response", run: () => focused().focusStep(-1), repeat: true },
    ];
  }

  render() {
    const keep = this.focusedId();
    const sections = this.ranker ? this.ranker.arrangement(this.items.map((item) => item.id)) : [{ key: null, title: null, ids: this.items.map((item) => item.id) }];
    let rank = 0;
    this.root.replaceChildren(...sections.map((section) => this.#section(section, () => ++rank)));
    if (keep) this.focusItem(keep); // a move re-renders the cards; the moved one keeps the focus
  }

  #section(section, nextRank) {
    const cards = section.ids.map((id) => this.itemById(id)).filter(Boolean).map((item) => this.#card(item, section.ranked ? nextRank() : null, section));
    const body = el("div", { class: "list-section-body" }, cards.length ? cards : el("p", { class: "list-empty" }, "Drop a response here"));
    if (!section.title) return el("div", { class: "list-section", "data-section": section.key ?? "" }, body);
    return el("section", { class: "list-section", "data-section": section.key },
      el("h3", { class: "list-section-title" }, section.title, kbd(section.hotkey)), body);
  }

  #card(item, rank, section) {
    const ranked = Boolean(this.ranker);
    return el("article", {
      class: "list-card", tabindex: "0", role: "listitem", "data-item": item.id, draggable: ranked ? "true" : null,
      "aria-label": `${ranked && section.ranked ? `${rank}. ` : ""}${item.title || item.id}`,
    },
    el("header", { class: "list-card-head" },
      ranked && section.ranked ? el("span", { class: "list-rank" }, String(rank)) : null,
      el("span", { class: "list-title" }, item.title || item.id),
      item.title ? el("span", { class: "list-id" }, item.id) : null,
      ranked ? this.#moveButtons(item.id) : null),
    el("div", { class: "list-body" }, typeof item.body === "string" ? item.body : ""));
  }

  #moveButtons(id) {
    const button = (label, step, title) => el("button", {
      type: "button", class: "btn btn-icon list-move", "aria-label": title, title, tabindex: "-1",
      onclick: () => this.ranker.moveBy(id, step),
    }, label);
    return el("span", { class: "list-moves" }, button("▲", -1, "Move up (Shift+↑ or K)"), button("▼", +1, "Move down (Shift+↓ or J)"));
  }

  #dragStart(event) {
    const card = event.target.closest?.(".list-card");
    if (!card || !this.ranker) return;
    this.dragged = card.dataset.item;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", this.dragged);
    card.classList.add("dragging");
  }

  #dragOver(event) {
    if (!this.dragged) return;
    event.preventDefault(); // allows the drop
    event.dataTransfer.dropEffect = "move";
    const place = this.#dropPlace(event);
    for (const card of this.root.querySelectorAll(".drop-before, .drop-after")) card.classList.remove("drop-before", "drop-after");
    place?.card?.classList.add(place.after ? "drop-after" : "drop-before");
  }

  #drop(event) {
    if (!this.dragged) return;
    event.preventDefault();
    const place = this.#dropPlace(event);
    const id = this.dragged;
    this.#dragEnd();
    if (place) this.ranker.moveTo(id, place.section, place.index);
  }

  #dragEnd() {
    this.dragged = null;
    for (const card of this.root.querySelectorAll(".dragging, .drop-before, .drop-after")) card.classList.remove("dragging", "drop-before", "drop-after");
  }

  /** Where a drop at the pointer puts the dragged card: its section and its index among the others there. */
  #dropPlace(event) {
    const section = event.target.closest?.(".list-section");
    if (!section) return null;
    const others = [...section.querySelectorAll(".list-card")].filter((card) => card.dataset.item !== this.dragged);
    const index = others.findIndex((card) => {
      const box = card.getBoundingClientRect();
      return event.clientY < box.top + box.height / 2;
    });
    const at = index === -1 ? others.length : index;
    const card = others[at] || others[others.length - 1];
    return { section: section.dataset.section || null, index: at, card, after: at === others.length };
  }
}

registerObject("list", ListView);
