// Pure parts of the labeling page, run by Node's test runner (tests/test_ui_js.py runs this file in the suite).
import assert from "node:assert/strict";
import { test } from "node:test";

import { percentBox } from "../static/frontend/js/objects/image.js";
import { CodePoints } from "../static/frontend/js/objects/text.js";
import { keyLabel } from "../static/frontend/js/keyboard.js";

test("code points and UTF-16 offsets convert both ways around emoji", () => {
  const text = "a😀b🎉c";
  const points = new CodePoints(text);
  assert.equal(points.length, 5); // Python's len()
  assert.deepEqual(points.unitOf, [0, 1, 3, 4, 6, 7]);
  assert.deepEqual(Array.from(points.pointOf), [0, 1, 1, 2, 3, 3, 4, 5]); // a low surrogate rounds down
  assert.equal(points.slice(1, 4), "😀b🎉");
  assert.equal(points.slice(4, 5), "c");
});

test("boxes become percentages of the natural size, clipped to the image, never past 100", () => {
  assert.deepEqual(percentBox({ x: 80, y: 60, w: 160, h: 120 }, 800, 600), { x: 10, y: 10, width: 20, height: 20 });
  const clipped = percentBox({ x: -10, y: 590, w: 100, h: 50 }, 800, 600);
  assert.deepEqual(clipped, { x: 0, y: 98.3333, width: 11.25, height: 1.6667 });
  const edge = percentBox({ x: 266.66665, y: 0, w: 533.33335, h: 600 }, 800, 600);
  assert.ok(edge.x + edge.width <= 100 + 1e-6);
  assert.equal(percentBox({ x: 900, y: 0, w: 10, h: 10 }, 800, 600), null);
});

test("key combos print the way the overlay shows them", () => {
  assert.equal(keyLabel("Ctrl+Shift+Z"), "Ctrl+Shift+Z");
  assert.equal(keyLabel("ArrowDown"), "↓");
  assert.equal(keyLabel("s"), "S");
  assert.equal(keyLabel("+"), "+");
});
