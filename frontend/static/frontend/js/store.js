// The annotation being edited: result items in Label Studio's format, which of them are model suggestions not yet
// accepted, and which region is selected. Every change goes through change(), which keeps snapshots for undo/redo.

const HISTORY_LIMIT = 200;
const COALESCE_MS = 800;

let counter = 0;
export const newRegionId = () => `r${Date.now().toString(36)}${(counter++).toString(36)}`;

export class AnnotationStore {
  constructor() {
    this.items = [];
    this.suggested = new Set();
    this.selectedId = null;
    this.undoStack = [];
    this.redoStack = [];
    this.listeners = new Set();
    this.lastCoalesce = null;
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Start a task: its items (from an earlier annotation or a prediction), and which are suggestions. */
  load(items, { suggested = false } = {}) {
    this.items = items.map((item) => ({ ...structuredClone(item), id: item.id || newRegionId() }));
    const ids = new Set();
    for (const item of this.items) {
      if (ids.has(item.id)) item.id = newRegionId();
      ids.add(item.id);
    }
    this.suggested = new Set(suggested ? this.items.map((item) => item.id) : []);
    this.selectedId = null;
    this.undoStack = [];
    this.redoStack = [];
    this.lastCoalesce = null;
    this.#emit({ kind: "load" });
  }

  /** Add an item as part of what was just loaded (a text field's pre-fill): not an undo step, and no event. */
  seed(item) {
    const seeded = { ...item, id: item.id || newRegionId() };
    this.items.push(seeded);
    return seeded;
  }

  get(id) {
    return this.items.find((item) => item.id === id);
  }

  itemsOf(controlName) {
    return this.items.filter((item) => item.from_name === controlName);
  }

  isSuggested(id) {
    return this.suggested.has(id);
  }

  /** Apply mutate(items) as one undoable step. Steps with the same coalesce key in quick succession merge
   *  (a drag that moves a box fifty times is one undo). `source` says who changed it, for the views. */
  change(mutate, { coalesce = null, source = null } = {}) {
    const now = performance.now();
    const merge = coalesce && this.lastCoalesce && this.lastCoalesce.key === coalesce && now - this.lastCoalesce.at < COALESCE_MS;
    if (!merge) {
      this.undoStack.push(this.#snapshot());
      if (this.undoStack.length > HISTORY_LIMIT) this.undoStack.shift();
    }
    this.lastCoalesce = coalesce ? { key: coalesce, at: now } : null;
    this.redoStack = [];
    mutate(this.items);
    this.#emit({ kind: "change", source });
  }

  add(item, options = {}) {
    const region = { ...item, id: item.id || newRegionId() };
    this.change((items) => items.push(region), options);
    return region;
  }

  /** Change an item's value; an edited suggestion becomes the annotator's own. */
  updateValue(id, value, options = {}) {
    this.change((items) => {
      const item = items.find((candidate) => candidate.id === id);
      if (!item) return;
      item.value = { ...item.value, ...value };
      this.#own(item);
    }, options);
  }

  remove(id, options = {}) {
    this.change((items) => {
      const index = items.findIndex((item) => item.id === id);
      if (index >= 0) items.splice(index, 1);
      this.suggested.delete(id);
      if (this.selectedId === id) this.selectedId = null;
    }, options);
  }

  /** Accept every suggestion as the annotator's own. */
  acceptSuggestions() {
    if (!this.suggested.size) return false;
    this.change((items) => items.filter((item) => this.suggested.has(item.id)).forEach((item) => this.#own(item)));
    return true;
  }

  select(id) {
    if (this.selectedId === id) return;
    this.selectedId = id;
    this.#emit({ kind: "select" });
  }

  undo() {
    return this.#travel(this.undoStack, this.redoStack);
  }

  redo() {
    return this.#travel(this.redoStack, this.undoStack);
  }

  /** The result to submit: Label Studio's items, those `keep` says are answers (each control says for its own). */
  result(keep = () => true) {
    return structuredClone(this.items.filter(keep));
  }

  #own(item) {
    if (this.suggested.delete(item.id)) delete item.score;
  }

  #travel(from, to) {
    if (!from.length) return false;
    to.push(this.#snapshot());
    this.#restore(from.pop());
    this.lastCoalesce = null;
    this.#emit({ kind: "change", source: "history" });
    return true;
  }

  #snapshot() {
    return JSON.stringify({ items: this.items, suggested: [...this.suggested], selectedId: this.selectedId });
  }

  #restore(snapshot) {
    const state = JSON.parse(snapshot);
    this.items = state.items;
    this.suggested = new Set(state.suggested);
    this.selectedId = this.items.some((item) => item.id === state.selectedId) ? state.selectedId : null;
  }

  #emit(event) {
    for (const listener of this.listeners) listener(event, this);
  }
}
