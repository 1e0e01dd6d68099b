// The labeling page's keys, bound in the order the `?` overlay lists them.
import { toggleHelp } from "./ui.js";

const editing = (page) => ["queue", "edit"].includes(page.mode.kind);

export function bindPageKeys(page) {
  const { keyboard, store } = page;
  const bind = (group, keys, label, run, extra = {}) => keyboard.bind({ group, keys, label, run, ...extra });

  bind("Task", ["Enter", "Ctrl+Enter"], "Submit and show the next task", (event) => page.submit(event), {
    inInput: true, when: (event) => event.ctrlKey || event.metaKey || !isTextField(event.target),
  });
  bind("Task", ["s"], "Skip the task (asks for an optional reason)", () => page.skip());
  bind("Task", ["a"], "Accept all model suggestions", () => page.acceptSuggestions(), { when: () => store.suggested.size > 0 });
  bind("Task", ["["], "Previous task (edit your earlier annotation)", () => page.back());
  bind("Task", ["]"], "Next newer task, or back to the queue", () => page.forward());
  bind("Task", ["r"], "Load the stored version after a conflict", () => page.loadStored(), { when: () => Boolean(page.mode.conflict) });

  for (const control of page.controls) {
    for (const entry of control.control.values) {
      if (!entry.key || !control.press) continue;
      bind(`${control.control.name} (${kindName(control.control.type)})`, [entry.key], entry.value, () => control.press(entry.value), {
        when: () => editing(page),
      });
    }
  }

  bind("Edit", ["Ctrl+Z"], "Undo", () => store.undo(), { repeat: true });
  bind("Edit", ["Ctrl+Shift+Z", "Ctrl+Y"], "Redo", () => store.redo(), { repeat: true });
  bind("Edit", ["Delete", "Backspace"], "Delete the selected region", () => store.remove(store.selectedId), { when: () => Boolean(store.selectedId) });
  bind("Edit", ["ArrowDown", "ArrowRight"], "Select the next region", () => selectRegion(store, +1), { repeat: true, when: () => store.regions().length > 0 });
  bind("Edit", ["ArrowUp", "ArrowLeft"], "Select the previous region", () => selectRegion(store, -1), { repeat: true, when: () => store.regions().length > 0 });
  bind("Edit", ["Escape"], "Deselect, or leave the text field", (event) => escape(page, event), { inInput: true });

  const images = Object.values(page.views).filter((view) => view.zoomBy);
  if (images.length) {
    bind("Image", ["+", "="], "Zoom in", () => images.forEach((view) => view.zoomBy(1.25)), { repeat: true });
    bind("Image", ["-"], "Zoom out", () => images.forEach((view) => view.zoomBy(0.8)), { repeat: true });
    bind("Image", ["0"], "Fit the image to the screen", () => images.forEach((view) => view.fit()));
    bind("Image", ["Space"], "Hold and drag to pan (or drag with the middle button; Ctrl+wheel zooms)", () => {}, { when: () => false });
  }
  bind("Help", ["?"], "Show or hide these shortcuts", () => toggleHelp(keyboard), { inModal: true });
}

function isTextField(target) {
  return target instanceof HTMLElement && ["TEXTAREA", "INPUT"].includes(target.tagName);
}

function kindName(type) {
  return { choices: "choice", labels: "span label", rectanglelabels: "box label", textarea: "text" }[type] || type;
}

function selectRegion(store, step) {
  const regions = store.regions();
  const index = regions.findIndex((item) => item.id === store.selectedId);
  const next = index === -1 ? (step > 0 ? 0 : regions.length - 1) : (index + step + regions.length) % regions.length;
  store.select(regions[next].id);
}

function escape(page, event) {
  if (isTextField(event.target)) return event.target.blur();
  page.store.select(null);
  for (const control of page.controls) {
    if (control.control.type === "labels" && control.active) {
      control.active = null;
      control.render();
    }
  }
  window.getSelection()?.removeAllRanges();
}
