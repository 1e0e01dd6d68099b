// <Ranker>: order the items of a <List>, best first, by keyboard (focus a card with Tab or ↑/↓, move it with
// Shift+↑/↓ or K/J), by a card's ▲/▼ buttons, or by dragging it. With <Bucket>s, each item goes into a bucket
// (its key, or a drag), starting from an "unplaced" pool; every item must be placed before it is an answer.
// Nothing is answered until the annotator moves something or keeps the order shown (O): the starting order is
// the task's, not a judgment.
import { el, kbd, stylesheet } from "../dom.js";
import { registerControl } from "../registry.js";
import { panel } from "./common.js";

stylesheet(new URL("../../css/controls/ranker.css", import.meta.url));

const POOL = ""; // the section of items not yet in a bucket

export class RankerControl {
  constructor(control, { store, objects }) {
    this.control = control;
    this.store = store;
    this.buckets = control.values.map((entry) => ({ key: entry.value, title: control.options?.bucket_titles?.[entry.value] || entry.value, hotkey: entry.key }));
    [this.list] = objects(control.toName);
    this.list?.attach(this);
  }

  get kindName() {
    return "ranking";
  }

  mount(container) {
    this.status = el("p", { class: "ranker-status" });
    this.order = el("ol", { class: "ranker-order" });
    const keys = el("p", { class: "ranker-keys" }, kbd("Tab"), kbd("↑"), kbd("↓"), " focus · ", kbd("Shift+↑"), kbd("Shift+↓"), " or ",
      kbd("K"), kbd("J"), " move", this.buckets.length ? " · bucket keys place it" : [" · ", kbd("O"), " keep this order"], " · or drag");
    container.append(panel(this.control, this.control.required ? "required" : "", keys, this.status, this.order));
  }

  item() {
    return this.store.itemsOf(this.control.name)[0];
  }

  /** The sections the list shows: one ranking, or the unplaced pool then each bucket. */
  arrangement(ids) {
    const answer = this.#answer(ids);
    if (!this.buckets.length) return [{ key: this.control.name, title: null, ids: answer[this.control.name], ranked: true }];
    const pool = { key: POOL, title: "Not placed yet", ids: this.#unplaced(answer, ids), ranked: false };
    return [...(pool.ids.length ? [pool] : []), ...this.buckets.map((bucket) => ({ ...bucket, ids: answer[bucket.key], ranked: true }))];
  }

  moveTo(id, sectionKey, index) {
    const ids = this.#ids();
    const answer = this.#answer(ids);
    for (const key of Object.keys(answer)) answer[key] = answer[key].filter((other) => other !== id);
    if (sectionKey !== POOL && sectionKey in answer) answer[sectionKey].splice(index, 0, id);
    this.#save(answer);
  }

  /** One step up or down the cards as shown; across a section's edge it lands in the next section. */
  moveBy(id, step) {
    const sections = this.arrangement(this.#ids());
    const at = sections.findIndex((section) => section.ids.includes(id));
    if (at === -1) return;
    const index = sections[at].ids.indexOf(id) + step;
    if (index >= 0 && index < sections[at].ids.length) return this.moveTo(id, sections[at].key, index);
    const next = sections[at + step];
    if (next) this.moveTo(id, next.key, step > 0 ? 0 : next.ids.length);
  }

  keepOrder() {
    if (!this.item()) this.#save(this.#answer(this.#ids()));
  }

  shortcuts() {
    const group = `${this.control.name} (ranking)`;
    const focused = () => this.list?.focusedId();
    const moving = (step) => () => {
      const id = focused();
      this.moveBy(id, step);
      this.list.focusItem(id);
    };
    const keys = [
      { group, keys: ["Shift+ArrowUp", "k"], label: "Move the focused response up", run: moving(-1), when: () => Boolean(focused()), repeat: true },
      { group, keys: ["Shift+ArrowDown", "j"], label: "Move the focused response down", run: moving(+1), when: () => Boolean(focused()), repeat: true },
    ];
    if (!this.buckets.length) keys.push({ group, keys: ["o"], label: "Keep the order shown as the ranking", run: () => this.keepOrder(), when: () => !this.item() });
    for (const bucket of this.buckets.filter((entry) => entry.hotkey)) {
      keys.push({ group, keys: [bucket.hotkey], label: `Put the focused response in “${bucket.title}”`, when: () => Boolean(focused()),
        run: () => { const id = focused(); this.moveTo(id, bucket.key, this.#answer(this.#ids())[bucket.key].length); this.list.focusItem(id); } });
    }
    return keys;
  }

  /** A ranking answers once it places every item of the list. */
  answers(item) {
    const ids = this.#ids();
    const placed = Object.values(item.value.ranker || {}).flat();
    return ids.length > 0 && placed.length === ids.length && ids.every((id) => placed.includes(id));
  }

  submits(item) {
    return this.answers(item);
  }

  howToAnswer() {
    return this.buckets.length ? "put every response in a bucket" : "move a response, or press O to keep this order";
  }

  focusTarget() {
    return this.list?.root.querySelector(".list-card");
  }

  render() {
    const item = this.item();
    const ids = this.#ids();
    const done = item && this.answers(item);
    this.status.textContent = done ? (this.store.isSuggested(item.id) ? "Suggested ranking" : "Ranked")
      : this.buckets.length ? `${this.#unplaced(this.#answer(ids), ids).length} not placed yet` : "Not ranked yet";
    this.status.dataset.state = done ? "done" : "todo";
    this.order.replaceChildren(...this.arrangement(ids).filter((section) => section.ranked).flatMap((section) => [
      ...(section.title ? [el("li", { class: "ranker-bucket" }, section.title)] : []),
      ...section.ids.map((id) => el("li", { class: "ranker-entry" }, this.list.itemById(id)?.title || id)),
    ]));
  }

  #ids() {
    return this.list ? this.list.items.map((entry) => entry.id) : [];
  }

  /** The current answer as {key: [ids]}: the stored item's, else the starting state (the task's order, or
   *  every bucket empty). Ids no longer in the list are dropped, new ones appended. */
  #answer(ids) {
    const stored = this.item()?.value.ranker || {};
    const keys = this.buckets.length ? this.buckets.map((bucket) => bucket.key) : [this.control.name];
    const answer = Object.fromEntries(keys.map((key) => [key, (stored[key] || []).filter((id) => ids.includes(id))]));
    if (!this.buckets.length) answer[this.control.name].push(...ids.filter((id) => !answer[this.control.name].includes(id)));
    return answer;
  }

  #unplaced(answer, ids) {
    const placed = new Set(Object.values(answer).flat());
    return ids.filter((id) => !placed.has(id));
  }

  #save(answer) {
    const item = this.item();
    if (item) this.store.updateValue(item.id, { ranker: answer });
    else this.store.add({ from_name: this.control.name, to_name: this.control.toName, type: "ranker", value: { ranker: answer } });
  }
}

registerControl("ranker", RankerControl);
