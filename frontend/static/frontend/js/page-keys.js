// The labeling page's keys, bound in the order the `?` overlay lists them. The page's own keys are here; each
// control and each kind of object view brings its own (`shortcuts()`), so this file knows no control type.
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

  // A control's keys (its choices, its labels) only act on a task on screen.
  for (const control of page.controls) {
    for (const shortcut of control.shortcuts?.() || []) {
      const when = shortcut.when || (() => true);
      keyboard.bind({ ...shortcut, when: (event) => editing(page) && when(event) });
    }
  }

  const hasRegions = () => page.regions().length > 0;
  bind("Edit", ["Ctrl+Z"], "Undo", () => store.undo(), { repeat: true });
  bind("Edit", ["Ctrl+Shift+Z", "Ctrl+Y"], "Redo", () => store.redo(), { repeat: true });
  bind("Edit", ["Delete", "Backspace"], "Delete the selected region", () => store.remove(store.selectedId), { when: () => Boolean(store.selectedId) });
  bind("Edit", ["ArrowDown", "ArrowRight"], "Select the next region", () => selectRegion(page, +1), { repeat: true, when: hasRegions });
  bind("Edit", ["ArrowUp", "ArrowLeft"], "Select the previous region", () => selectRegion(page, -1), { repeat: true, when: hasRegions });
  bind("Edit", ["Escape"], "Deselect, or leave the text field", (event) => escape(page, event), { inInput: true });

  for (const shortcut of page.viewShortcuts()) keyboard.bind(shortcut);
  bind("Help", ["?"], "Show or hide these shortcuts", () => toggleHelp(keyboard), { inModal: true });
}

function isTextField(target) {
  return target instanceof HTMLElement && ["TEXTAREA", "INPUT"].includes(target.tagName);
}

function selectRegion(page, step) {
  const regions = page.regions();
  const index = regions.findIndex((item) => item.id === page.store.selectedId);
  const next = index === -1 ? (step > 0 ? 0 : regions.length - 1) : (index + step + regions.length) % regions.length;
  page.store.select(regions[next].id);
}

/** Escape leaves a text field; else it deselects (region and mouse selection) and each control drops what it armed. */
function escape(page, event) {
  if (isTextField(event.target)) return event.target.blur();
  page.store.select(null);
  for (const control of page.controls) control.escape?.();
  window.getSelection()?.removeAllRanges();
}
