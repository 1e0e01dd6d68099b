// The Pairwise diff's pieces: each side joins back to its own text, marks what the other lacks, and two unrelated
// long answers give up on words (all marked) instead of taking a second.
import assert from "node:assert/strict";
import { test } from "node:test";

import { differs, wordDiff } from "../static/frontend/js/controls/pairwise-diff.js";

const marked = (pieces) => pieces.filter((piece) => piece.changed).map((piece) => piece.text);
const joined = (pieces) => pieces.map((piece) => piece.text).join("");

test("a changed word is marked in each side's own text, its space left unmarked", () => {
  const first = "The cat sat on the mat. It was happy.\nYes!";
  const second = "The dog sat on the mat. It was happy.\nNo!";
  const pieces = wordDiff(first, second);
  assert.equal(joined(pieces.first), first);
  assert.equal(joined(pieces.second), second);
  assert.deepEqual(marked(pieces.first), ["cat", "Yes!"]);
  assert.deepEqual(marked(pieces.second), ["dog", "No!"]);
});

test("words added in a run are one mark; identical texts have none", () => {
  const pieces = wordDiff("Paris is the capital.", "Paris is the largest city and the capital.");
  assert.deepEqual(marked(pieces.first), []);
  assert.deepEqual(marked(pieces.second), ["largest city and the"]);
  assert.equal(differs(wordDiff("Same words.", "Same words.")), false);
  assert.equal(differs(wordDiff("", "")), false);
});

test("two unrelated 2,000-word answers are marked whole, fast", () => {
  const words = (prefix) => Array.from({ length: 2000 }, (_, index) => `${prefix}${index % 97}${index % 16 === 15 ? "." : ""}`).join(" ");
  const [first, second] = [words("alpha"), words("beta")];
  const started = performance.now();
  const pieces = wordDiff(first, second);
  assert.ok(performance.now() - started < 500);
  assert.deepEqual(marked(pieces.first), [first]);
  assert.equal(joined(pieces.second), second);
});
