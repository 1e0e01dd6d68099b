// <Image>: the task's image, with the boxes of the <RectangleLabels> controls pointing at it drawn, moved and
// resized with Annotorious. Zoom changes the image's layout size (so Annotorious sees its true scale) and panning
// scrolls the viewport: no CSS transforms for the library to second-guess. Results are percentages of the natural
// size. Annotorious is its UMD build (window.Annotorious), loaded by a classic script tag before this module: its
// ES build expects a bundler (it reads process.env).
import { colourOf } from "../controls/common.js";
import { el } from "../dom.js";
import { registerObject } from "../registry.js";

const MIN_BOX_PX = 3; // a click without a drag makes no box
const ZOOM_STEP = 1.25;

export class ImageView {
  constructor(object, { store }) {
    this.object = object;
    this.store = store;
    this.controls = []; // the <RectangleLabels> controls drawing boxes on this image
    this.annotator = null;
    this.zoom = 1; // relative to "fit"
    this.panLocked = false; // the Pan switch: drags move the image instead of drawing
  }

  /** The image keys act on every image of the page at once. */
  static shortcuts(views) {
    const each = (run) => () => views.forEach(run);
    return [
      { group: "Image", keys: ["+", "="], label: "Zoom in", run: each((view) => view.zoomBy(ZOOM_STEP)), repeat: true },
      { group: "Image", keys: ["-"], label: "Zoom out", run: each((view) => view.zoomBy(1 / ZOOM_STEP)), repeat: true },
      { group: "Image", keys: ["0"], label: "Fit the image to the screen", run: each((view) => view.fit()) },
      { group: "Image", keys: ["Space"], label: "Hold and drag to pan (or drag with the middle button; Ctrl+wheel zooms)", run: () => {}, when: () => false },
    ];
  }

  attach(boxesControl) {
    this.controls.push(boxesControl);
  }

  /** Start loading and decoding a fetched task's image before it is shown; show() uses this very element. */
  preload(task) {
    const url = task.data?.[this.object.field];
    if (typeof url !== "string" || !url) return;
    const image = new Image();
    image.decoding = "async";
    image.src = url;
    image.decode().catch(() => {}); // a broken image shows as broken; the task can still be skipped
    task.images ||= {};
    task.images[this.object.field] = image;
  }

  mount(container) {
    this.viewport = el("div", { class: "image-viewport", "data-object": this.object.name, tabindex: "-1" });
    this.stage = el("div", { class: "image-stage" });
    this.panShield = el("div", { class: "pan-shield", hidden: true });
    this.viewport.append(this.stage);
    this.zoomLabel = el("span", { class: "zoom-level" }, "100%");
    // On a touch screen a finger on the image draws; this switch makes it move a zoomed image instead.
    this.panButton = el("button", {
      type: "button", class: "btn btn-quiet pan-toggle", "aria-pressed": "false", title: "Drag to move the image (or hold Space)",
      onclick: () => this.#setPanLock(this.panButton.getAttribute("aria-pressed") !== "true"),
    }, "Pan");
    // The shield sits over the viewport, outside it: it covers what is on screen however far the image scrolled.
    container.append(el("div", { class: "object-frame image-frame" }, el("div", { class: "image-holder" }, this.viewport, this.panShield),
      el("div", { class: "zoom-bar" },
        el("button", { type: "button", class: "btn btn-icon", title: "Zoom out (-)", onclick: () => this.zoomBy(1 / ZOOM_STEP) }, "−"),
        this.zoomLabel,
        el("button", { type: "button", class: "btn btn-icon", title: "Zoom in (+)", onclick: () => this.zoomBy(ZOOM_STEP) }, "+"),
        el("button", { type: "button", class: "btn btn-quiet", title: "Fit to screen (0)", onclick: () => this.fit() }, "Fit"),
        this.panButton)));
    this.viewport.addEventListener("wheel", (event) => this.#wheel(event), { passive: false });
    this.#enablePanning();
    new ResizeObserver(() => this.image && this.#layout()).observe(this.viewport);
  }

  /** Show a task's image: the prefetched, already decoded element when there is one. */
  async show(task) {
    this.annotator?.destroy();
    this.annotator = null;
    const image = task.images?.[this.object.field] || Object.assign(new Image(), { src: task.data[this.object.field] });
    image.className = "task-image";
    image.alt = `Task ${task.id}`;
    image.draggable = false;
    this.image = image;
    this.stage.replaceChildren(image);
    if (!image.complete || !image.naturalWidth) await image.decode().catch(() => {});
    if (this.image !== image) return; // another task was shown meanwhile
    if (!image.naturalWidth) {
      this.stage.replaceChildren(el("p", { class: "image-error" }, `The image could not be loaded (${image.src}). Skip the task with S.`));
      return;
    }
    this.zoom = 1;
    this.#setPanLock(false); // a new task starts at fit, ready to draw
    this.#layout();
    this.#createAnnotator(image);
  }

  get natural() {
    return { width: this.image.naturalWidth || 1, height: this.image.naturalHeight || 1 };
  }

  fitScale() {
    const { width, height } = this.natural;
    return Math.min((this.viewport.clientWidth - 2) / width, (this.viewport.clientHeight - 2) / height, 4);
  }

  zoomBy(factor, anchor = null) {
    if (!this.image) return;
    const before = this.fitScale() * this.zoom;
    this.zoom = Math.min(16, Math.max(0.25, this.zoom * factor));
    const after = this.fitScale() * this.zoom;
    // Keep the point under the cursor (or the viewport's centre) where it is.
    const box = this.viewport.getBoundingClientRect();
    const at = anchor || { x: box.left + box.width / 2, y: box.top + box.height / 2 };
    const stageBox = this.image.getBoundingClientRect();
    const imageX = (at.x - stageBox.left) / before;
    const imageY = (at.y - stageBox.top) / before;
    this.#layout();
    const moved = this.image.getBoundingClientRect();
    this.viewport.scrollLeft += moved.left + imageX * after - at.x;
    this.viewport.scrollTop += moved.top + imageY * after - at.y;
  }

  fit() {
    this.zoom = 1;
    this.#layout();
  }

  #layout() {
    const scale = this.fitScale() * this.zoom;
    const { width, height } = this.natural;
    this.image.style.width = `${Math.round(width * scale)}px`;
    this.image.style.height = `${Math.round(height * scale)}px`;
    this.stage.classList.toggle("zoomed", this.zoom > 1);
    this.zoomLabel.textContent = `${Math.round(scale * 100)}%`;
  }

  #wheel(event) {
    if (!(event.ctrlKey || event.metaKey)) return; // plain wheel scrolls (pans) the viewport
    event.preventDefault();
    this.zoomBy(event.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP, { x: event.clientX, y: event.clientY });
  }

  /** Hold Space (or use the middle button) and drag to pan. */
  #enablePanning() {
    let drag = null;
    const shield = this.panShield;
    window.addEventListener("keydown", (event) => {
      if (event.key === " " && !event.repeat && !/INPUT|TEXTAREA/.test(event.target.tagName)) {
        event.preventDefault();
        shield.hidden = false;
      }
    });
    window.addEventListener("keyup", (event) => {
      if (event.key === " ") shield.hidden = !this.panLocked;
    });
    const start = (event) => {
      drag = { x: event.clientX, y: event.clientY, left: this.viewport.scrollLeft, top: this.viewport.scrollTop };
      shield.setPointerCapture?.(event.pointerId);
    };
    shield.addEventListener("pointerdown", start);
    this.viewport.addEventListener("pointerdown", (event) => {
      if (event.button === 1) {
        event.preventDefault();
        shield.hidden = false;
        start(event);
      }
    }, true);
    shield.addEventListener("pointermove", (event) => {
      if (!drag) return;
      this.viewport.scrollLeft = drag.left - (event.clientX - drag.x);
      this.viewport.scrollTop = drag.top - (event.clientY - drag.y);
    });
    shield.addEventListener("pointerup", (event) => {
      drag = null;
      if (event.button === 1) shield.hidden = !this.panLocked;
    });
  }

  #setPanLock(on) {
    this.panLocked = on;
    this.panShield.hidden = !on;
    this.panButton.setAttribute("aria-pressed", String(on));
  }

  boxes() {
    const names = new Set(this.controls.map((control) => control.control.name));
    return this.store.items.filter((item) => item.type === "rectanglelabels" && names.has(item.from_name));
  }

  /** The boxes in the order they were drawn, as the region list shows them and the arrow keys walk them. */
  regions() {
    return this.boxes();
  }

  #createAnnotator(image) {
    const annotator = window.Annotorious.createImageAnnotator(image, {
      drawingEnabled: this.controls.length > 0, drawingMode: "drag", userSelectAction: "EDIT", theme: "light",
      style: (annotation) => this.#style(annotation),
    });
    this.annotator = annotator;
    this.tags = el("div", { class: "box-tags", "aria-hidden": "true" });
    annotator.element.append(this.tags);
    this.#syncToAnnotator();
    // Observe Annotorious' store directly: its lifecycle events come late (on deselect, or a second after a drag).
    annotator.state.store.observe((event) => this.#fromAnnotator(event), { origin: "LOCAL" });
    annotator.on("selectionChanged", (selected) => {
      const id = selected[0]?.id ?? null;
      if (id === null && this.store.selectedId === this.quietSelection) return;
      if (id !== this.store.selectedId && (id === null || this.store.get(id))) this.store.select(id);
    });
  }

  #style(annotation) {
    const item = this.store.get(annotation.id);
    const owner = item && this.controls.find((control) => control.control.name === item.from_name);
    const colour = owner ? colourOf(owner.control, item.value.rectanglelabels[0]) : "#64748b";
    const suggested = item && this.store.isSuggested(item.id);
    const selected = item && item.id === this.store.selectedId;
    return {
      stroke: colour, strokeWidth: selected ? 3.5 : suggested ? 1.5 : 2.5,
      fill: colour, fillOpacity: selected ? 0.3 : suggested ? 0.06 : 0.16,
    };
  }

  #fromAnnotator({ changes }) {
    if (this.syncing) return;
    const { width, height } = this.natural;
    for (const created of changes.created || []) {
      const box = percentBox(created.target.selector.geometry, width, height);
      const owner = this.controls[0];
      if (!box || box.width * width / 100 < MIN_BOX_PX || box.height * height / 100 < MIN_BOX_PX) {
        queueMicrotask(() => this.#syncToAnnotator());
        continue;
      }
      this.store.add({
        id: created.id, from_name: owner.control.name, to_name: owner.control.toName, type: "rectanglelabels",
        original_width: width, original_height: height, image_rotation: 0,
        value: { ...box, rotation: 0, rectanglelabels: [owner.active] },
      }, { source: this });
      // The new box is selected here (a label key relabels it) but not in Annotorious, whose editor would
      // otherwise need a click elsewhere before the next box can be drawn. A click on the box edits it.
      this.quietSelection = created.id;
      this.store.select(created.id);
      queueMicrotask(() => this.annotator?.cancelSelected());
    }
    for (const { newValue } of changes.updated || []) {
      const box = percentBox(newValue.target.selector.geometry, width, height);
      if (box && this.store.get(newValue.id)) this.store.updateValue(newValue.id, box, { coalesce: `box:${newValue.id}`, source: this });
    }
    for (const deleted of changes.deleted || []) {
      if (this.store.get(deleted.id)) this.store.remove(deleted.id, { source: this });
    }
  }

  /** Show the store's boxes in Annotorious (after undo, relabel, delete, a new task). */
  render(event) {
    if (!this.annotator) return;
    this.#drawTags();
    if (event?.kind === "select") {
      this.annotator.setStyle((annotation) => this.#style(annotation)); // restyle: the selected box stands out
      return this.#syncSelection();
    }
    if (event?.source === this) return this.annotator.redraw?.();
    this.#syncToAnnotator();
  }

  /** Each box's label in a tag at its top-left corner; percentages, so zoom moves them along. */
  #drawTags() {
    this.tags.replaceChildren(...this.boxes().map((item) => {
      const label = item.value.rectanglelabels.join(", ");
      const owner = this.controls.find((control) => control.control.name === item.from_name);
      return el("span", {
        class: ["box-tag", this.store.isSuggested(item.id) && "suggested", item.id === this.store.selectedId && "selected",
          item.value.y < 4 && "inside"].filter(Boolean).join(" "), // at the top edge the tag goes inside the box
        style: { left: `${item.value.x}%`, top: `${item.value.y}%`, "--label": owner ? colourOf(owner.control, item.value.rectanglelabels[0]) : "#64748b" },
      }, label);
    }));
  }

  #syncToAnnotator() {
    const { width, height } = this.natural;
    this.syncing = true;
    try {
      this.annotator.setAnnotations(this.boxes().map((item) => annotoriousBox(item, width, height)), true);
    } finally {
      this.syncing = false;
    }
    this.#drawTags();
    this.#syncSelection();
  }

  #syncSelection() {
    const id = this.store.selectedId;
    if (id !== this.quietSelection) this.quietSelection = null;
    if (id && id === this.quietSelection) return;
    const selected = this.annotator.getSelected?.() || [];
    if ((selected[0]?.id ?? null) === id) return;
    if (id && this.boxes().some((item) => item.id === id)) this.annotator.setSelected(id, true);
    else this.annotator.cancelSelected();
  }
}

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

/** Annotorious geometry (natural pixels) -> Label Studio percentages, clipped to the image. */
export function percentBox(geometry, width, height) {
  if (!geometry) return null;
  const left = clamp(geometry.x, 0, width), top = clamp(geometry.y, 0, height);
  const right = clamp(geometry.x + geometry.w, 0, width), bottom = clamp(geometry.y + geometry.h, 0, height);
  if (right <= left || bottom <= top) return null;
  // Round the edges, not the sizes, so x + width never passes 100 by a rounding step.
  const round = (value) => Math.round(value * 1e4) / 1e4;
  const [x, y] = [round((left / width) * 100), round((top / height) * 100)];
  return { x, y, width: round(round((right / width) * 100) - x), height: round(round((bottom / height) * 100) - y) };
}

function annotoriousBox(item, width, height) {
  const { x, y, width: w, height: h } = item.value;
  const geometry = { x: (x / 100) * width, y: (y / 100) * height, w: (w / 100) * width, h: (h / 100) * height };
  geometry.bounds = { minX: geometry.x, minY: geometry.y, maxX: geometry.x + geometry.w, maxY: geometry.y + geometry.h };
  return { id: item.id, bodies: [], target: { annotation: item.id, selector: { type: "RECTANGLE", geometry } } };
}

registerObject("image", ImageView);
