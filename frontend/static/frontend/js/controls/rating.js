// <Rating>: 1 to maxRating stars, by number key (1-9, 0 for 10) or a click. On a <Text> (or any single object) it
// rates the whole response; with perItem on a <List>, one row per response and the number keys rate the focused
// one (a focused card or row), else the first not yet rated. Several ratings on a page (rubric dimensions): the
// keys go to the one holding the focus, else to the first.
import { el, kbd, stylesheet } from "../dom.js";
import { registerControl } from "../registry.js";
import { panel } from "./common.js";

stylesheet(new URL("../../css/controls/rating.css", import.meta.url));

const ratingControls = []; // every Rating on the page, in screen order, to pick the one the number keys go to

export function starKey(stars) {
  return stars === 10 ? "0" : String(stars);
}

export class RatingControl {
  constructor(control, { store, objects }) {
    this.control = control;
    this.store = store;
    this.maxRating = control.options?.max_rating || 5;
    this.perItem = Boolean(control.options?.per_item);
    this.views = objects(control.toName);
    ratingControls.push(this);
  }

  get kindName() {
    return "rating";
  }

  mount(container) {
    this.rows = el("div", { class: "rating-rows" });
    const target = this.perItem ? "the focused response (Tab, ↑/↓)" : "it";
    const keys = el("p", { class: "rating-keys" }, kbd("1"), "–", kbd(starKey(this.maxRating)), ` rate ${target}`);
    this.panel = panel(this.control, [`1–${this.maxRating}`, this.control.required && "required"].filter(Boolean).join(" · "), keys, this.rows);
    container.append(this.panel);
    if (this.perItem) document.addEventListener("focusin", () => this.#markKeyTarget());
  }

  /** The units rated: each list item by id with perItem, else the one whole-object unit (null). */
  units() {
    if (!this.perItem) return [{ id: null, title: null }];
    const list = this.views[0];
    return (list?.items || []).map((entry) => ({ id: entry.id, title: entry.title || entry.id }));
  }

  ratingOf(unitId) {
    return this.#itemOf(unitId)?.value.rating ?? null;
  }

  rate(unitId, stars) {
    const item = this.#itemOf(unitId);
    if (item) return this.store.updateValue(item.id, { rating: stars });
    const added = { from_name: this.control.name, to_name: this.control.toName, type: "rating", value: { rating: stars } };
    if (this.perItem) added.item_index = unitId;
    this.store.add(added);
  }

  /** The unit the number keys rate now: the focused response or row, else the first one not yet rated. */
  keyTarget() {
    if (!this.perItem) return null;
    const units = this.units().map((unit) => unit.id);
    const focusedRow = document.activeElement?.closest?.(`.panel[data-control="${CSS.escape(this.control.name)}"] .rating-row`)?.dataset.item;
    const focusedCard = this.views[0]?.focusedId?.();
    return [focusedRow, focusedCard].find((id) => units.includes(id)) ?? units.find((id) => this.ratingOf(id) === null) ?? units[0];
  }

  /** Whether the number keys are this control's: the focus is in its panel, or in no Rating's panel and it is the first. */
  hasTheKeys() {
    const holder = ratingControls.find((other) => other.panel.contains(document.activeElement));
    return holder ? holder === this : ratingControls[0] === this;
  }

  shortcuts() {
    const group = `${this.control.name} (rating)`;
    return Array.from({ length: this.maxRating }, (_, index) => index + 1).map((stars) => ({
      group, keys: [starKey(stars)], label: `${stars} of ${this.maxRating}${this.perItem ? " for the focused response" : ""}`,
      when: () => this.hasTheKeys(), run: () => this.rate(this.keyTarget(), stars),
    }));
  }

  /** With perItem, an answer rates every response; else any rating is one. */
  answers(item) {
    if (!(item.value.rating >= 1)) return false;
    return !this.perItem || this.units().every((unit) => this.ratingOf(unit.id) !== null);
  }

  howToAnswer() {
    return this.perItem ? "rate every response" : "give it a rating";
  }

  /** Where a required-rating message sends the focus: the first response not rated yet (its card when the list
   *  shows one, so ↑/↓ go on from there), else the first star. */
  focusTarget() {
    const unrated = this.units().find((unit) => this.ratingOf(unit.id) === null);
    const card = unrated && this.views[0]?.root?.querySelector(`.list-card[data-item="${CSS.escape(unrated.id)}"]`);
    return card || this.rows.querySelector(".star");
  }

  render() {
    const keep = document.activeElement?.closest?.(".rating-row") && this.rows.contains(document.activeElement) ? document.activeElement.dataset : null;
    this.rows.replaceChildren(...this.units().map((unit) => this.#row(unit)));
    this.#markKeyTarget();
    if (keep) this.rows.querySelector(`.rating-row[data-item="${CSS.escape(keep.unit ?? "")}"] .star[data-stars="${keep.stars}"]`)?.focus();
  }

  #row(unit) {
    const rating = this.ratingOf(unit.id);
    const item = this.#itemOf(unit.id);
    const stars = Array.from({ length: this.maxRating }, (_, index) => index + 1).map((stars) => el("button", {
      type: "button", class: "star", "data-stars": String(stars), "data-unit": unit.id ?? "", "aria-pressed": String(rating === stars),
      "aria-label": `${stars} of ${this.maxRating}${unit.title ? ` for ${unit.title}` : ""}`, title: `${stars} (key ${starKey(stars)})`,
      onclick: () => this.rate(unit.id, stars),
    }, el("span", { class: ["star-mark", rating !== null && stars <= rating && "on"].filter(Boolean).join(" ") }, "★"), el("span", { class: "star-number" }, String(stars))));
    return el("div", {
      class: ["rating-row", item && this.store.isSuggested(item.id) && "suggested"].filter(Boolean).join(" "),
      "data-item": unit.id ?? "", "data-rated": rating !== null ? "" : null,
    },
    unit.title ? el("span", { class: "rating-title" }, unit.title) : null,
    el("span", { class: "stars", role: "group", "aria-label": unit.title || this.control.name }, stars),
    el("output", { class: "rating-value" }, rating === null ? "–" : `${rating}/${this.maxRating}`));
  }

  /** Outline the row the number keys rate now; it follows the focus, so only classes change (a re-render while
   *  a star is being tapped would swallow the tap). */
  #markKeyTarget() {
    const target = this.keyTarget();
    for (const row of this.rows.children) row.classList.toggle("key-target", this.perItem && row.dataset.item === target);
  }

  #itemOf(unitId) {
    return this.store.itemsOf(this.control.name).find((item) => !this.perItem || item.item_index === unitId);
  }
}

registerControl("rating", RatingControl);
