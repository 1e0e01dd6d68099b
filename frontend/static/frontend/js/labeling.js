// The labeling page: loads the control and object modules the project's label config names, builds them through
// the registry, shows tasks from the queue (the next one prefetched), sends submissions through the outbox, and
// binds every action to a key. It knows no control type: each one's module says how it looks, keys and answers.
import { newIdempotencyKey, projectApi } from "./api.js";
import { el, kbd } from "./dom.js";
import { Keyboard } from "./keyboard.js";
import { LeadTimer } from "./lead-timer.js";
import { Outbox } from "./outbox.js";
import { TaskQueue } from "./queue.js";
import { bindPageKeys } from "./page-keys.js";
import { controlClass, loadModules, objectClass, UnknownTypeError } from "./registry.js";
import { answers, firstMissing, missingMessage } from "./required.js";
import { AnnotationStore } from "./store.js";
import {
  $, askSkipReason, banner, clearMissing, showMissing, showPageError, showProgress, showSkipped, showStatus, toast, toggleHelp,
} from "./ui.js";

const EDIT_SAVE_WAIT_MS = 2000; // how long an edit waits for the server's answer before moving on (offline)

export class LabelingPage {
  constructor(page) {
    this.page = page;
    this.config = page.config;
    this.api = projectApi(page.project.id);
    this.store = new AnnotationStore();
    this.keyboard = new Keyboard();
    this.timer = new LeadTimer();
    this.outbox = new Outbox(this.api, `labeler:outbox:${page.user}:${page.project.id}`, {
      onChange: (outbox) => showStatus(outbox),
      onSaved: (item, annotation) => this.#saved(item, annotation),
      onProblem: (item, error) => this.#problem(item, error),
    });
    this.queue = new TaskQueue(this.api, { busyTaskIds: () => this.outbox.pendingTaskIds(), preload: (task) => this.#preload(task) });
    this.mode = { kind: "loading" };
    this.history = { entries: [], nextBefore: null, position: -1 };
    this.progress = { ...page.progress };
    this.unsaved = new Map(); // task id -> a submission the server refused (conflict), kept to reopen
    this.metrics = window.labelerMetrics = { pageShownAt: null, transitions: [] };
    this.#build();
    this.store.subscribe((event) => this.#render(event));
    bindPageKeys(this);
    this.#wireButtons();
    window.addEventListener("pagehide", () => this.#releaseLeases());
    showStatus(this.outbox);
    showProgress(this.progress);
  }

  async start() {
    this.outbox.flush();
    if (this.page.openTask) {
      await this.openEarlier(this.page.openTask);
      this.queue.start().catch(() => {});
      return;
    }
    try {
      await this.queue.start();
    } catch (error) {
      banner("error", `Could not load a task: ${error.message}`, [["Try again", "", () => this.start()]]);
      return;
    }
    await this.#showQueueTask();
  }

  // --- building the page from the label config --------------------------------------------------------------

  #build() {
    const canvas = $("#canvas");
    const sidebar = $("#sidebar");
    // Every view, then every control, before anything is mounted: a control may come before the object(s) it
    // names and finds them when it is built, and one that lays out its objects says where they go.
    this.views = new Map(this.config.layout.filter((item) => item.kind === "object")
      .map((item) => [item.name, this.#newView(this.config.objects[item.name])]));
    this.controlsByName = new Map(this.config.layout.filter((item) => item.kind === "control")
      .map((item) => [item.name, this.#newControl(this.config.controls[item.name])]));
    this.controls = [...this.controlsByName.values()];
    let header = null;
    for (const item of this.config.layout) {
      if (item.kind === "header") {
        header = el("h2", { class: "section-header" }, item.text);
        continue;
      }
      const target = item.kind === "object" ? canvas : sidebar;
      if (header) target.append(header);
      header = null;
      if (item.kind === "object") this.views.get(item.name).mount(this.#placeOf(item.name, canvas));
      else this.controlsByName.get(item.name).mount(sidebar);
    }
    this.regionList = el("ol", { class: "region-list" });
    if (this.controls.some((instance) => instance.regionDetail)) {
      sidebar.append(el("section", { class: "panel regions-panel" },
        el("header", { class: "panel-head" }, el("h3", {}, "Regions"), el("span", { class: "panel-hint" }, kbd("↑"), kbd("↓"), " switch · ", kbd("Delete"), " remove")),
        this.regionList));
    }
  }

  #newView(object) {
    const View = objectClass(object.kind);
    return new View(object, { store: this.store });
  }

  #newControl(control) {
    const Control = controlClass(control.type);
    return new Control(control, { store: this.store, objects: (toName) => this.objectsNamed(toName) });
  }

  /** Where an object view mounts: the place a control that lays out its objects gives it, else the canvas. */
  #placeOf(objectName, canvas) {
    for (const control of this.controls) {
      const place = control.placeObject?.(objectName, canvas);
      if (place) return place;
    }
    return canvas;
  }

  /** The object views a control's toName names: one, or several ("a,b"). */
  objectsNamed(toName) {
    return String(toName || "").split(",").map((name) => this.views.get(name.trim())).filter(Boolean);
  }

  /** Every region (span, box...) in the order the region list shows them and the arrow keys walk them. */
  regions() {
    const seen = new Set();
    return [...this.views.values()].flatMap((view) => view.regions?.() || [])
      .filter((item) => !seen.has(item.id) && seen.add(item.id)); // a control on two views shows its regions on both
  }

  /** The keys of each kind of object view, bound once for all the views of that kind. */
  viewShortcuts() {
    const viewsByClass = new Map();
    for (const view of this.views.values()) viewsByClass.set(view.constructor, [...(viewsByClass.get(view.constructor) || []), view]);
    return [...viewsByClass].flatMap(([View, views]) => View.shortcuts?.(views) || []);
  }

  #owner(item) {
    return this.controlsByName.get(item.from_name);
  }

  /** Whether an item answers its control: the control's own rule when it has one. */
  #answers(item) {
    return this.#owner(item)?.answers?.(item) ?? answers(item);
  }

  #preload(task) {
    for (const view of this.views.values()) view.preload?.(task);
  }

  #wireButtons() {
    const actions = {
      "#btn-submit": (event) => this.submit(event), "#btn-skip": () => this.skip(), "#btn-back": () => this.back(),
      "#btn-forward": () => this.forward(), "#btn-help": () => toggleHelp(this.keyboard), "#btn-accept": () => this.acceptSuggestions(),
    };
    for (const [selector, run] of Object.entries(actions)) $(selector).addEventListener("click", run);
  }

  #render(event) {
    for (const control of this.controls) control.render(event);
    for (const view of this.views.values()) view.render(event);
    this.#renderRegions();
    this.#renderSuggestions();
    if (this.missing && !firstMissing([this.missing.control], this.store.items, (item) => this.#answers(item))) this.#clearMissing();
  }

  #renderRegions() {
    const rows = this.regions().map((item, index) => {
      const owner = this.#owner(item);
      const labels = owner?.regionLabels?.(item) || [];
      const colour = owner?.control.values.find((entry) => entry.value === labels[0])?.colour;
      const detail = owner?.regionDetail?.(item) ?? "";
      return el("li", {
        class: ["region", item.id === this.store.selectedId && "selected", this.store.isSuggested(item.id) && "suggested"].filter(Boolean).join(" "),
        "data-region": item.id, style: { "--label": colour },
      },
      el("button", { type: "button", class: "region-select", onclick: () => this.store.select(item.id) },
        el("span", { class: "region-index" }, String(index + 1)), el("span", { class: "swatch" }),
        el("span", { class: "region-label" }, labels.join(", ")), el("span", { class: "region-detail" }, detail),
        this.store.isSuggested(item.id) ? el("span", { class: "badge" }, "suggested") : null),
      el("button", { type: "button", class: "btn btn-icon region-delete", "aria-label": "Delete region", title: "Delete (Del)", onclick: () => this.store.remove(item.id) }, "×"));
    });
    if (!rows.length) rows.push(el("li", { class: "region-empty" }, "No regions yet."));
    this.regionList.replaceChildren(...rows);
    this.regionList.querySelector(".selected")?.scrollIntoView({ block: "nearest" });
  }

  #renderSuggestions() {
    const box = $("#suggestions");
    const count = this.store.suggested.size;
    box.hidden = !count;
    if (count) {
      const prediction = this.prediction;
      const score = typeof prediction?.score === "number" ? ` · score ${prediction.score.toFixed(2)}` : "";
      $("#suggestions-text").textContent = `${count} suggestion${count === 1 ? "" : "s"} from ${prediction?.model_version || "a model"}${score}`;
    }
  }

  // --- showing tasks -------------------------------------------------------------------------------------------

  async #showQueueTask() {
    const task = this.queue.current;
    this.history.position = -1;
    if (!task) return this.#showDone();
    window.history.replaceState(null, "", `/projects/${this.page.project.id}/label/`);
    await this.#show(task, { kind: "queue", task });
  }

  async #show(task, mode, { result = null } = {}) {
    this.mode = mode;
    document.body.dataset.mode = mode.kind;
    document.body.dataset.state = "loading";
    this.prediction = null;
    this.#clearMissing();
    for (const control of this.controls) control.show?.(task); // before anything renders the task's answer
    // A skip stores no answer: reopened, it offers the model's suggestions again, as the queue did.
    const answered = mode.annotation && !(mode.annotation.was_cancelled && !mode.annotation.result?.length);
    if (result) {
      this.store.load(result);
    } else if (answered) {
      this.store.load(mode.annotation.result);
    } else if (task.predictions?.length) {
      this.prediction = task.predictions.reduce((newest, prediction) => (prediction.id > newest.id ? prediction : newest));
      this.store.load(this.prediction.result, { suggested: true });
    } else {
      this.store.load([]);
    }
    $("#task-id").textContent = `Task ${task.id}`;
    $("#edit-pill").hidden = mode.kind !== "edit";
    showSkipped(mode.annotation?.was_cancelled ? mode.annotation : null);
    $("#btn-forward").disabled = mode.kind === "queue";
    $("#empty").hidden = true;
    $("#workspace").hidden = false;
    this.timer.restart();
    await Promise.all([...this.views.values()].map((view) => view.show(task)));
    if (this.mode !== mode) return;
    this.#render({ kind: "load" });
    document.body.dataset.task = task.id;
    document.body.dataset.state = "ready";
    this.#recordShown(task.id);
  }

  #recordShown(taskId) {
    const submitAt = this.submitAt;
    this.submitAt = null;
    // After the frame is painted: a task on screen, not one in a layout queue.
    requestAnimationFrame(() => setTimeout(() => {
      const now = performance.now();
      if (this.metrics.pageShownAt === null) this.metrics.pageShownAt = now;
      if (submitAt !== null && submitAt !== undefined) this.metrics.transitions.push({ taskId, ms: now - submitAt });
    }, 0));
  }

  #showDone() {
    this.mode = { kind: "done" };
    document.body.dataset.mode = "done";
    document.body.dataset.state = "ready";
    delete document.body.dataset.task;
    this.store.load([]);
    $("#task-id").textContent = "";
    $("#edit-pill").hidden = true;
    showSkipped(null);
    $("#workspace").hidden = true;
    $("#empty").hidden = false;
    this.#recordShown(null);
  }

  // --- actions (each bound to a key in page-keys.js) --------------------------------------------------------------

  async submit(event) {
    if (!["queue", "edit"].includes(this.mode.kind)) return;
    // The second click of a double click (detail 2) is not a decision about the task that just appeared;
    // a held-down Enter repeats are dropped by the keyboard module.
    if (event?.detail > 1) return;
    if (this.#refuseMissing()) return;
    this.submitAt = event?.timeStamp ?? performance.now();
    const body = { result: this.store.result((item) => this.#owner(item)?.submits?.(item) ?? true), lead_time: this.timer.seconds(), was_cancelled: false, cancel_reason: "" };
    if (this.prediction) body.prediction = this.prediction.id;
    await this.#send(body);
  }

  async skip() {
    if (!["queue", "edit"].includes(this.mode.kind)) return;
    const mode = this.mode;
    const reason = await askSkipReason();
    if (reason === null || this.mode !== mode) return;
    this.submitAt = performance.now();
    // A skip answers nothing: neither what is on screen nor the model's suggestions the annotator never chose.
    await this.#send({ result: [], lead_time: this.timer.seconds(), was_cancelled: true, cancel_reason: reason });
  }

  /** A required control left unanswered: say so beside it, move the focus there, and send nothing. */
  #refuseMissing() {
    const missing = firstMissing(this.controls.map((instance) => instance.control), this.store.items, (item) => this.#answers(item));
    if (!missing) return false;
    this.missing = this.controls.find((instance) => instance.control === missing);
    showMissing(missing.name, missingMessage(missing.name, this.missing.howToAnswer?.()), this.missing.focusTarget?.());
    return true;
  }

  #clearMissing() {
    this.missing = null;
    clearMissing();
  }

  async #send(body) {
    const { task, annotation } = this.mode;
    if (this.mode.kind === "queue") {
      task.submissionKey ||= newIdempotencyKey(); // once per task: a retry or a double submit reuses it
      this.outbox.add({ key: task.submissionKey, taskId: task.id, body });
      this.#countLocally(body.was_cancelled);
      this.history.position = -1;
      const next = await this.#advance();
      if (this.mode.task !== task) return; // the annotator went elsewhere meanwhile
      if (next) await this.#show(next, { kind: "queue", task: next });
      else this.#showDone();
      return;
    }
    await this.#saveEdit(task, annotation, body);
  }

  /** The next task from the queue; while the server is out of reach, say so and keep asking. */
  async #advance() {
    let notice = null;
    for (let wait = 1000; ; wait = Math.min(wait * 2, 15000)) {
      try {
        const next = await this.queue.advance();
        notice?.();
        return next;
      } catch (error) {
        if (!error.retryable) {
          notice?.();
          banner("error", `Could not get the next task: ${error.message}`);
          return null;
        }
        document.body.dataset.state = "loading";
        notice ||= banner("error", "Can't reach the server for the next task. Your work is kept in this browser; retrying…");
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  async #saveEdit(task, annotation, body) {
    const item = { key: newIdempotencyKey(), taskId: task.id, body };
    if (annotation) {
      item.annotationId = annotation.id;
      item.version = this.mode.overwriteVersion ?? annotation.version;
      body.lead_time = (annotation.lead_time || 0) + body.lead_time;
    }
    const mode = this.mode;
    const outcome = await Promise.race([this.outbox.add(item), new Promise((resolve) => setTimeout(resolve, EDIT_SAVE_WAIT_MS, { status: "queued" }))]);
    if (this.mode !== mode) return;
    if (outcome.status === "problem") return; // #problem() explained it; the edit stays on screen
    this.unsaved.delete(task.id);
    toast(outcome.status === "saved" ? `Task ${task.id} saved` : `Task ${task.id} will be saved when the server answers`);
    await this.forward();
  }

  #countLocally(skipped) {
    if (skipped) this.progress.skipped += 1;
    else this.progress.done += 1;
    this.progress.remaining = Math.max(0, this.progress.remaining - 1);
    showProgress(this.progress);
  }

  /** `[`: open the annotator's previous task (their own annotation, for editing). */
  async back() {
    if (!(await this.#settled())) return;
    if (this.history.position === -1) {
      const page = await this.api.history(null).catch(() => null);
      if (!page) return toast("Can't load your earlier tasks right now.");
      this.history.entries = page.results;
      this.history.nextBefore = page.next_before;
    }
    let position = this.history.position + 1;
    // Opened at /label/<task>/: that task is on screen already, so "previous" is the one before it.
    if (this.history.entries[position]?.task === this.mode.task?.id) position += 1;
    if (position >= this.history.entries.length && this.history.nextBefore) {
      const page = await this.api.history(this.history.nextBefore).catch(() => null);
      if (page) {
        this.history.entries.push(...page.results);
        this.history.nextBefore = page.next_before;
      }
    }
    const entry = this.history.entries[position];
    if (!entry) return toast("No earlier tasks.");
    this.history.position = position;
    await this.openEarlier(entry.task);
  }

  /** `]`: the next newer earlier task, or back to the queue. */
  async forward() {
    const position = this.history.position - 1;
    if (position < 0 || !this.history.entries[position]) {
      if (this.mode.kind === "queue") return;
      if (!this.queue.current) await this.#advance();
      return this.#showQueueTask();
    }
    this.history.position = position;
    await this.openEarlier(this.history.entries[position].task);
  }

  /** Open one of the annotator's earlier tasks; `result` restores a version the server refused. */
  async openEarlier(taskId, { result = null } = {}) {
    let task;
    try {
      task = await this.api.task(taskId);
    } catch (error) {
      return banner("error", `Could not open task ${taskId}: ${error.message}`);
    }
    this.#preload(task);
    const annotation = task.annotations.find((candidate) => candidate.completed_by === this.page.userId) || null;
    window.history.replaceState(null, "", `/projects/${this.page.project.id}/label/${task.id}/`);
    await this.#show(task, { kind: "edit", task, annotation }, { result });
  }

  /** Wait (briefly) until queued submissions reached the server, so history includes them. */
  async #settled() {
    const idle = await Promise.race([this.outbox.whenIdle().then(() => true), new Promise((resolve) => setTimeout(resolve, 3000, false))]);
    if (!idle) toast("Still sending your last submissions; try again when they are saved.");
    return idle;
  }

  acceptSuggestions() {
    const count = this.store.suggested.size;
    if (this.store.acceptSuggestions()) toast(`Accepted ${count} suggestion${count === 1 ? "" : "s"}`);
  }

  // --- answers from the server --------------------------------------------------------------------------------

  #saved(item, annotation) {
    this.unsaved.delete(item.taskId);
    if (this.mode.kind === "edit" && this.mode.task.id === item.taskId && annotation) {
      this.mode.annotation = annotation;
      this.mode.overwriteVersion = undefined;
    }
    clearTimeout(this.progressTimer);
    this.progressTimer = setTimeout(() => this.#refreshProgress(), 400);
  }

  async #refreshProgress() {
    if (this.outbox.pending) return;
    const progress = await this.api.progress().catch(() => null);
    if (progress) {
      this.progress = progress;
      showProgress(progress);
    }
  }

  /** The server refused a submission (409: changed or annotated elsewhere; 400: invalid). Keep the work. */
  async #problem(item, error) {
    const annotationId = item.annotationId || error.body.annotation_id || error.body.annotation?.id;
    this.unsaved.set(item.taskId, { result: item.body.result, annotationId });
    const onScreen = this.mode.kind === "edit" && this.mode.task.id === item.taskId;
    if (error.status === 409 && onScreen && annotationId) return this.#conflictOnScreen(annotationId);
    const what = error.status === 409
      ? `Task ${item.taskId} was changed elsewhere (another tab, or a manager) before your version arrived, so yours was not saved.`
      : `Task ${item.taskId} was not saved: ${error.message}`;
    banner("error", `${what} Your version is kept in this page.`, [
      ["Open it", "", () => this.reopenUnsaved(item.taskId)],
    ]);
  }

  /** The edit on screen clashed with a newer version: offer to overwrite it, or to load it instead. */
  async #conflictOnScreen(annotationId) {
    const stored = await this.api.annotation(annotationId).catch(() => null);
    if (stored) this.mode.overwriteVersion = stored.version;
    this.mode.conflict = stored;
    this.#conflictBanner?.();
    this.#conflictBanner = banner("error",
      "This annotation was changed elsewhere (another tab, or a manager) since you opened it. Your version is still on screen and not saved.",
      [["Overwrite with mine", "Enter", () => this.submit()], ["Load the stored one", "R", () => this.loadStored()]]);
  }

  #conflictBanner = null;

  /** The banner's "Open it": reopen the newest submission the server refused, with the annotator's version on screen. */
  async reopenUnsaved(taskId = [...this.unsaved.keys()].pop()) {
    const unsaved = this.unsaved.get(taskId);
    if (!unsaved) return;
    await this.openEarlier(taskId, { result: unsaved.result });
    if (unsaved.annotationId) await this.#conflictOnScreen(unsaved.annotationId);
  }

  /** `R` after a conflict: show the stored version instead of ours. */
  loadStored() {
    const stored = this.mode.conflict;
    if (!stored) return;
    this.#conflictBanner?.();
    this.mode.annotation = stored;
    this.mode.overwriteVersion = undefined;
    this.mode.conflict = null;
    this.unsaved.delete(this.mode.task.id);
    this.store.load(stored.result);
    toast("Loaded the stored version");
  }

  #releaseLeases() {
    const held = this.queue.held().filter((id) => !this.outbox.pendingTaskIds().includes(id));
    if (held.length) this.api.release(held).catch(() => {});
  }
}

/** Load the modules the config names, then build the page; a module or type that is missing is said on the page. */
async function main() {
  const page = JSON.parse(document.getElementById("labeler-page").textContent);
  try {
    await loadModules(moduleUrls(page.config));
    checkRegistered(page.config);
  } catch (error) {
    return showBrokenConfig(error);
  }
  new LabelingPage(page).start();
}

function moduleUrls(config) {
  return [...Object.values(config.objects), ...Object.values(config.controls)].map((entry) => entry.module);
}

/** Every type the config uses has a class, before anything is built (a half-built page would help nobody). */
function checkRegistered(config) {
  for (const object of Object.values(config.objects)) objectClass(object.kind);
  for (const control of Object.values(config.controls)) controlClass(control.type);
}

function showBrokenConfig(error) {
  const cannot = "This page cannot show this project's tasks";
  if (error instanceof UnknownTypeError) {
    return showPageError(`${cannot}: ${error.message}. Ask a manager of the project to check its label config.`);
  }
  showPageError(`${cannot}: ${error.message}. Reload the page to try again.`, [["Reload", "", () => window.location.reload()]]);
}

main();
