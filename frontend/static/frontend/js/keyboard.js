// Every key of the labeling page in one table: it dispatches key presses and draws the `?` overlay, so what the
// overlay lists is exactly what works. Shortcuts are off while the annotator types in a text field or a dialog,
// except the few marked `inInput` (Ctrl+Enter submits from a TextArea, Escape leaves it).

const NAMES = {
  enter: "Enter", delete: "Delete", backspace: "Backspace", escape: "Esc", arrowup: "↑", arrowdown: "↓",
  arrowleft: "←", arrowright: "→", " ": "Space", ctrl: "Ctrl", shift: "Shift", alt: "Alt",
};

function parse(combo) {
  const parts = combo.toLowerCase().split("+").filter(Boolean);
  const key = combo.endsWith("++") || combo === "+" ? "+" : parts.pop();
  const modifiers = new Set(parts);
  return { key, modifiers };
}

function matches({ key, modifiers }, event) {
  const pressed = event.key.toLowerCase();
  const ctrl = event.ctrlKey || event.metaKey;
  if (modifiers.has("ctrl") !== ctrl || modifiers.has("alt") !== event.altKey) return false;
  // Shift is part of a printable key already ("?" is Shift+/); it only counts for named keys and Ctrl combos.
  const printable = pressed.length === 1;
  if ((!printable || ctrl) && modifiers.has("shift") !== event.shiftKey) return false;
  return pressed === key;
}

/** How a combo is printed on buttons and in the overlay. */
export function keyLabel(combo) {
  if (combo === "+") return "+";
  return combo.split("+").map((part) => NAMES[part.toLowerCase()] || (part.length === 1 ? part.toUpperCase() : part)).join("+");
}

function typingIn(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

export class Keyboard {
  constructor() {
    this.bindings = [];
    this.enabled = true;
    // Capture phase on window: we see keys before Annotorious' own document-level Ctrl+Z handler, and stop them.
    window.addEventListener("keydown", (event) => this.#dispatch(event), true);
  }

  /** bind({keys: ["Enter", "Ctrl+Enter"], group, label, run, inInput, when}) */
  bind(binding) {
    const entry = { group: "General", inInput: false, when: () => true, ...binding, parsed: binding.keys.map(parse) };
    this.bindings.push(entry);
    return () => (this.bindings = this.bindings.filter((candidate) => candidate !== entry));
  }

  /** Bindings to show in the overlay, grouped, in the order they were bound. */
  groups() {
    const groups = new Map();
    for (const binding of this.bindings) {
      if (binding.hidden) continue;
      if (!groups.has(binding.group)) groups.set(binding.group, []);
      groups.get(binding.group).push({ keys: binding.keys.map(keyLabel), label: binding.label });
    }
    return groups;
  }

  #dispatch(event) {
    if (!this.enabled || event.isComposing || ["Control", "Shift", "Alt", "Meta"].includes(event.key)) return;
    const inInput = typingIn(event.target);
    const modal = document.querySelector("dialog[open]");
    for (const binding of this.bindings) {
      if (inInput && !binding.inInput) continue;
      if (modal && !binding.inModal) continue;
      if (!binding.parsed.some((combo) => matches(combo, event))) continue;
      if (!binding.when(event)) continue;
      event.preventDefault();
      event.stopPropagation();
      if (!event.repeat || binding.repeat) binding.run(event);
      return;
    }
  }
}
