// Required controls: which one a result still leaves unanswered, and what to tell the annotator about it.
// Pure functions over the page config and result items, so Node's test runner checks them without a browser.

/** Whether a result item answers its control: some list in its value (the choices, the labels, the text) holds
 *  something other than blank text. A control type whose answers look otherwise says so with its own `answers`. */
export function answers(item) {
  return Object.values(item?.value || {}).some((entry) => Array.isArray(entry) && entry.some(isFilled));
}

function isFilled(entry) {
  return typeof entry === "string" ? entry.trim() !== "" : entry !== null && entry !== undefined;
}

/** The first required control (in the order given, i.e. on screen) that no item of `items` answers, or null. */
export function firstMissing(controls, items, isAnswer = answers) {
  const answered = new Set(items.filter(isAnswer).map((item) => item.from_name));
  return controls.find((control) => control.required && !answered.has(control.name)) || null;
}

/** The message shown beside a required control left unanswered; each control class says how it is answered. */
export function missingMessage(controlName, howToAnswer = "answer it") {
  return `${controlName} is required: ${howToAnswer} before you submit.`;
}
