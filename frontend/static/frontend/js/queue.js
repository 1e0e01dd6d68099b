// The annotator's queue in the browser: the task on screen and the next one, already fetched (and its media
// preloaded by the object views), so Submit shows the next task without waiting for the server. The server
// leases both to us; `exclude` keeps it from handing back a task we already hold or have just submitted.

export class TaskQueue {
  constructor(api, { busyTaskIds = () => [], preload = () => {} } = {}) {
    this.api = api;
    this.preload = preload; // start loading what a fetched task will show (its images)
    this.busyTaskIds = busyTaskIds; // submitted but not yet confirmed: never hand these out again
    this.current = null;
    this.next = undefined; // undefined: not fetched yet; null: nothing left
    this.pending = null;
  }

  async start() {
    this.current = await this.#fetch([...this.busyTaskIds()]); // not a task still waiting in the outbox
    if (this.current) this.prefetch();
    return this.current;
  }

  prefetch() {
    const exclude = [this.current?.id, ...this.busyTaskIds()];
    this.next = undefined;
    const pending = this.#fetch(exclude).then((task) => {
      if (this.pending === pending) this.next = task;
      return task;
    }, () => {
      if (this.pending === pending) this.pending = null; // offline: advance() fetches again
      return undefined;
    });
    this.pending = pending;
    return pending;
  }

  /** Move on after the current task was submitted or skipped: the prefetched task at once when it is there. */
  async advance() {
    let task = this.next;
    if (task === undefined && this.pending) task = await this.pending;
    if (!task) task = await this.#fetch([...this.busyTaskIds()]); // the end, or the prefetch failed: ask again
    if (task && task.id === this.current?.id) task = null;
    this.current = task;
    this.pending = null;
    if (task) this.prefetch();
    else this.next = null;
    return task;
  }

  /** Tasks leased to us that we hold in hand; given back when the page closes. */
  held() {
    return [this.current?.id, this.next?.id].filter(Boolean);
  }

  async #fetch(exclude) {
    const task = await this.api.next(exclude);
    if (task) this.preload(task);
    return task;
  }
}
