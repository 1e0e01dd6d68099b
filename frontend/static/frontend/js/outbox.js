// Submissions waiting for the server. Each keeps the Idempotency-Key it was given when the annotator pressed
// Submit, so a retry after a lost answer (or a double click) never stores a second annotation. The list lives in
// localStorage too: closing the tab while offline loses nothing, the next visit sends it.
import { ApiError } from "./api.js";

const MAX_BACKOFF_MS = 15000;

export class Outbox {
  constructor(api, storageKey, { onChange = () => {}, onSaved = () => {}, onProblem = () => {} } = {}) {
    this.api = api;
    this.storageKey = storageKey;
    this.handlers = { onChange, onSaved, onProblem };
    this.items = this.#load();
    this.waiters = new Map(); // item key -> resolve functions of add()'s promises
    this.sending = false;
    this.offline = false;
    this.backoff = 1000;
    this.wake = null; // ends the current backoff wait early
    window.addEventListener("online", () => (this.wake ? this.wake() : this.flush()));
  }

  /** Queue a submission; the promise settles with {status: "saved"|"problem", ...} once the server answered. */
  add(item) {
    this.items.push(item);
    this.#save();
    this.handlers.onChange(this);
    const settled = new Promise((resolve) => this.waiters.set(item.key, resolve));
    this.flush();
    return settled;
  }

  get pending() {
    return this.items.length;
  }

  pendingTaskIds() {
    return this.items.map((item) => item.taskId);
  }

  whenIdle() {
    if (!this.items.length) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (this.items.length ? setTimeout(check, 50) : resolve());
      check();
    });
  }

  async flush() {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.items.length) {
        const item = this.items[0];
        try {
          const { data } = await this.#send(item);
          this.#settle(item, { status: "saved", annotation: data });
          this.handlers.onSaved(item, data);
          this.#setOffline(false);
        } catch (error) {
          if (error.retryable) {
            this.#setOffline(true, error);
            await new Promise((resolve) => {
              this.wake = resolve;
              setTimeout(resolve, this.backoff);
            });
            this.wake = null;
            this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
            continue;
          }
          this.#settle(item, { status: "problem", error });
          this.handlers.onProblem(item, error instanceof ApiError ? error : new ApiError(0, { detail: String(error) }));
        }
      }
    } finally {
      this.sending = false;
      this.handlers.onChange(this);
    }
  }

  #send(item) {
    this.handlers.onChange(this);
    if (item.annotationId) {
      return this.api.patchAnnotation(item.annotationId, { ...item.body, version: item.version });
    }
    return this.api.createAnnotation(item.taskId, item.body, item.key);
  }

  #settle(item, outcome) {
    this.items.shift();
    this.#save();
    const resolve = this.waiters.get(item.key);
    this.waiters.delete(item.key);
    if (resolve) resolve(outcome);
  }

  #setOffline(offline, error) {
    if (!offline) this.backoff = 1000;
    if (this.offline !== offline) {
      this.offline = offline;
      this.lastError = error;
      this.handlers.onChange(this);
    }
  }

  #load() {
    try {
      return JSON.parse(localStorage.getItem(this.storageKey) || "[]");
    } catch {
      return [];
    }
  }

  #save() {
    try {
      localStorage.setItem(this.storageKey, JSON.stringify(this.items));
    } catch {
      // Storage full or disabled: the list still lives in memory for this page.
    }
  }
}
