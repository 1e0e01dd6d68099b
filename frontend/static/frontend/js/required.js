// Required controls: which one a result still leaves unanswered, and what to tell the annotator about it.
// Pure functions over the page config and result items, so Node's test runner checks them without a browser.

/** Whether a result item answers its control: a choice, a span or a box with a label, or non-blank text. */
export function answers(item) {
  const value = item?.value || {};
  if (["choices", "labels", "rectanglelabels"].some((key) => Array.isArray(value[key]) && value[key].length)) return true;
  return Array.isArray(value.text) && value.text.some((text) => typeof text === "string" && text.trim());
}

/** The first required control (in the order given, i.e. on screen) that no item of `items` answers, or null. */
export function firstMissing(controls, items) {
  const answered = new Set(items.filter(answers).map((item) => item.from_name));
  return controls.find((control) => control.required && !answered.has(control.name)) || null;
}

/** The message shown beside a required control left unanswered; each control class says how it is answered. */
export function missingMessage(controlName, howToAnswer = "answer it") {
  return `${controlName} is required: ${howToAnswer} before you submit.`;
}
