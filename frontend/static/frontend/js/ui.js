// The parts of the labeling page around the task: save status, progress, banners, the `?` overlay, the skip dialog,
// the "skipped" mark of a reopened task, the message beside a required control left unanswered, and the page's
// own error when it cannot start.
import { el } from "./dom.js";

export const $ = (selector) => document.querySelector(selector);

export function showStatus(outbox) {
  const status = $("#save-status");
  const waiting = outbox.pending;
  let text = "All saved";
  let state = "saved";
  if (outbox.offline) {
    text = `Offline: ${waiting} waiting, retrying`;
    state = "offline";
  } else if (waiting) {
    text = "Saving…";
    state = "saving";
  }
  status.dataset.state = state;
  status.lastElementChild.textContent = text;
  status.title = outbox.offline ? `Can't reach the server (${outbox.lastError?.message || "network"}). Nothing is lost: your work is kept in this browser and sent when the server answers.` : "";
}

export function showProgress({ done, skipped, remaining }) {
  const total = done + skipped + remaining || 1;
  $("#progress-fill").style.width = `${((done + skipped) / total) * 100}%`;
  $("#progress-text").textContent = [`${done} done`, skipped && `${skipped} skipped`, `${remaining} left`].filter(Boolean).join(" · ");
  $("#progress").title = `Your progress in this project: ${done} done, ${skipped} skipped, ${remaining} left`;
  Object.assign($("#progress").dataset, { done, skipped, remaining });
}

/** Mark a reopened task the annotator skipped (with the reason they gave); null hides the mark. */
export function showSkipped(annotation) {
  const pill = $("#skipped-pill");
  pill.hidden = !annotation;
  pill.textContent = annotation?.cancel_reason ? `Skipped: ${annotation.cancel_reason}` : "Skipped";
  pill.title = annotation ? "You skipped this task. Submit answers it; Skip keeps it skipped." : "";
  if (annotation) document.body.dataset.skipped = "true";
  else delete document.body.dataset.skipped;
}

/** Say beside a control why the submit was refused, and move the focus to it. */
export function showMissing(controlName, message, focusTarget) {
  clearMissing();
  const section = document.querySelector(`.panel[data-control="${CSS.escape(controlName)}"]`);
  if (!section) return toast(message);
  section.dataset.invalid = "true";
  section.append(el("p", { class: "panel-error", role: "alert" }, message));
  section.scrollIntoView({ block: "nearest" });
  focusTarget?.focus({ preventScroll: true });
}

export function clearMissing() {
  for (const section of document.querySelectorAll(".panel[data-invalid]")) {
    delete section.dataset.invalid;
    section.querySelector(".panel-error")?.remove();
  }
}

/** A banner under the top bar; actions are [label, key, run]. Answers a function that removes it. */
export function banner(kind, message, actions = []) {
  const box = el("div", { class: `banner banner-${kind}`, role: kind === "error" ? "alert" : "status" },
    el("p", {}, message),
    el("div", { class: "banner-actions" }, actions.map(([label, key, run]) =>
      el("button", { type: "button", class: "btn btn-small", onclick: () => { close(); run(); } }, label, key ? el("kbd", {}, key) : null))),
    el("button", { type: "button", class: "btn btn-icon banner-close", "aria-label": "Dismiss", onclick: () => close() }, "×"));
  const close = () => box.remove();
  $("#banners").append(box);
  return close;
}

/** The page cannot work at all (a module missing, a type unknown): hide the workspace and say why in a banner. */
export function showPageError(message, actions = []) {
  document.body.dataset.state = "error";
  $("#workspace").hidden = true;
  banner("error", message, actions);
}

export function toast(message) {
  const note = el("div", { class: "toast", role: "status" }, message);
  $("#toasts").append(note);
  setTimeout(() => note.remove(), 2600);
}

export function toggleHelp(keyboard) {
  const overlay = $("#help");
  if (!overlay.open) {
    const sections = [...keyboard.groups()].map(([group, entries]) =>
      el("section", {}, el("h3", {}, group), el("dl", {}, entries.flatMap(({ keys, label }) => [
        el("dt", {}, keys.flatMap((key, index) => [index ? " or " : null, el("kbd", {}, key)])), el("dd", {}, label)]))));
    $("#help-body").replaceChildren(...sections);
    overlay.showModal();
  } else {
    overlay.close();
  }
}

/** Ask for an optional skip reason; resolves with the reason (maybe "") or null when cancelled. */
export function askSkipReason() {
  const dialog = $("#skip-dialog");
  const field = $("#skip-reason");
  field.value = "";
  dialog.showModal();
  field.focus();
  return new Promise((resolve) => {
    const finish = (value) => {
      field.removeEventListener("keydown", onKey);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const onKey = (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        finish(field.value.trim());
      }
    };
    const onClose = () => finish(dialog.returnValue === "skip" ? field.value.trim() : null);
    field.addEventListener("keydown", onKey);
    dialog.addEventListener("close", onClose);
  });
}
