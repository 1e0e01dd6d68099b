// What a choice key does to a pre-filled answer, and which required control a result leaves unanswered.
import assert from "node:assert/strict";
import { test } from "node:test";

import { nextChoices } from "../static/frontend/js/controls/choices.js";
import { answers, firstMissing, missingMessage } from "../static/frontend/js/required.js";

test("a key on a pre-filled choice confirms it, single or multiple", () => {
  assert.deepEqual(nextChoices(["Positive"], "Positive", { suggested: true, required: true }), ["Positive"]);
  assert.deepEqual(nextChoices(["Positive"], "Positive", { suggested: true, required: false }), ["Positive"]);
  assert.deepEqual(nextChoices(["Price", "Quality"], "Price", { multiple: true, suggested: true }), ["Price", "Quality"]);
  assert.deepEqual(nextChoices(["Positive"], "Negative", { suggested: true }), ["Negative"]); // another key: replaces
  assert.deepEqual(nextChoices(["Price"], "Delivery", { multiple: true, suggested: true }), ["Price", "Delivery"]);
});

test("the annotator's own choices: single selects (cleared again only when optional), multiple toggles", () => {
  assert.deepEqual(nextChoices([], "Positive", { required: true }), ["Positive"]);
  assert.deepEqual(nextChoices(["Positive"], "Positive", { required: true }), ["Positive"]);
  assert.deepEqual(nextChoices(["Positive"], "Positive", { required: false }), []);
  assert.deepEqual(nextChoices(["Price", "Quality"], "Price", { multiple: true }), ["Quality"]);
  assert.deepEqual(nextChoices(["Price"], "Quality", { multiple: true, required: true }), ["Price", "Quality"]);
});

const controls = [
  { name: "sentiment", type: "choices", multiple: false, required: true },
  { name: "entities", type: "labels", required: false },
  { name: "note", type: "textarea", required: true },
];

test("the first required control without an answer, in screen order", () => {
  assert.equal(firstMissing(controls, []).name, "sentiment");
  const chosen = { from_name: "sentiment", value: { choices: ["Positive"] } };
  assert.equal(firstMissing(controls, [chosen]).name, "note");
  assert.equal(firstMissing(controls, [chosen, { from_name: "note", value: { text: ["  "] } }]).name, "note");
  assert.equal(firstMissing(controls, [chosen, { from_name: "note", value: { text: ["fine"] } }]), null);
  assert.equal(firstMissing(controls, [{ from_name: "sentiment", value: { choices: [] } }]).name, "sentiment");
});

test("what counts as an answer, and the message naming the control", () => {
  assert.ok(answers({ value: { rectanglelabels: ["Face"], x: 1 } }));
  assert.ok(answers({ value: { labels: ["PER"], start: 0, end: 3, text: "Bob" } }));
  assert.ok(!answers({ value: {} }));
  assert.ok(!answers(null));
  assert.equal(missingMessage("sentiment", "pick a choice"), "sentiment is required: pick a choice before you submit.");
  assert.equal(missingMessage("box"), "box is required: answer it before you submit.");
});
