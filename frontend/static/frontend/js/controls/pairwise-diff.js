// A word-level diff of two responses, as the pieces each one's own pane shows: its text in order, each piece
// marked when the other response lacks it. jsdiff (vendored) does the diffing, over words with their spaces.
//
// Myers' diff costs about (n + m) × edits, so two unrelated 2,000-word answers would take most of a second. So the
// word diff gets an edit budget, and past it the two are compared by sentences (a hundred or so each, cheap), then
// word by word inside each stretch of changed sentences, again on a budget; a stretch past its budget is marked
// whole, which is what a reader sees anyway when two passages share nothing but "the" and "a".
import { diffArrays } from "../../vendor/diff/libesm/index.js";

// Edits (words) the whole-text diff may find before the sentence pass takes over.
const WHOLE_TEXT_EDITS = 500;
// A stretch of n words is diffed by words while it differs by at most STRETCH_WORK / n: n × edits stays bounded.
const STRETCH_WORK = 20000;
// A word with the white space after it, or white space that starts the text.
const WORD = /\S+\s*|\s+/g;
// A sentence ends at . ! ? or a line break, its trailing white space kept with it so the pieces join back exactly.
const SENTENCE = /[^.!?\n]*(?:[.!?]+|\n|$)\s*/g;

/** { first: [{text, changed}], second: [{text, changed}] }: each text cut into pieces that join back to it. */
export function wordDiff(first, second) {
  const [a, b] = [asText(first), asText(second)];
  const pieces = { first: [], second: [] };
  const [left, right] = [a.match(WORD) || [], b.match(WORD) || []];
  const parts = diffTokens(left, right, WHOLE_TEXT_EDITS);
  if (parts) addParts(parts, left, right, pieces);
  else diffBySentences(a, b, pieces);
  return pieces;
}

/** Whether any piece is marked: two identical responses have nothing to show. */
export function differs(pieces) {
  return [...pieces.first, ...pieces.second].some((piece) => piece.changed);
}

function asText(text) {
  return typeof text === "string" ? text : "";
}

/** jsdiff's parts for two token lists compared without their trailing spaces; undefined past maxEditLength. */
function diffTokens(left, right, maxEditLength) {
  // Plain strings compared with ===: a comparator function would double the diff's time.
  return diffArrays(left.map(trimmed), right.map(trimmed), { maxEditLength });
}

function trimmed(token) {
  return token.trimEnd();
}

function diffBySentences(first, second, pieces) {
  const [left, right] = [first.match(SENTENCE).filter(Boolean), second.match(SENTENCE).filter(Boolean)];
  let [i, j] = [0, 0];
  const sentences = diffTokens(left, right);
  for (let index = 0; index < sentences.length; index++) {
    const part = sentences[index];
    if (!part.added && !part.removed) {
      addParts([part], left.slice(i, i + part.count), right.slice(j, j + part.count), pieces);
      [i, j] = [i + part.count, j + part.count];
      continue;
    }
    // A removed stretch and the added one right after it are one place rewritten: diff them word by word.
    const next = sentences[index + 1];
    const removed = part.removed ? part.count : 0;
    const added = part.added ? part.count : next?.added ? next.count : 0;
    if (part.removed && next?.added) index++;
    diffStretch(left.slice(i, i + removed).join(""), right.slice(j, j + added).join(""), pieces);
    [i, j] = [i + removed, j + added];
  }
}

function diffStretch(removed, added, pieces) {
  const [left, right] = [removed.match(WORD) || [], added.match(WORD) || []];
  const budget = Math.ceil(STRETCH_WORK / (left.length + right.length || 1));
  const parts = left.length && right.length ? diffTokens(left, right, budget) : undefined;
  if (parts) return addParts(parts, left, right, pieces);
  push(pieces.first, removed, true);
  push(pieces.second, added, true);
}

/** jsdiff's parts as each side's pieces, read from the original tokens (spaces and all): the first side keeps what
 *  is common and removed, the second what is common and added. */
function addParts(parts, left, right, pieces) {
  let [i, j] = [0, 0];
  for (const part of parts) {
    if (!part.added) {
      push(pieces.first, left.slice(i, i + part.count).join(""), Boolean(part.removed));
      i += part.count;
    }
    if (!part.removed) {
      push(pieces.second, right.slice(j, j + part.count).join(""), Boolean(part.added));
      j += part.count;
    }
  }
}

/** Append a piece, merged into the last one when both are marked alike (fewer DOM nodes). A marked piece's
 *  trailing space stays unmarked, unless more marked words follow it. */
function push(list, text, changed) {
  if (!text) return;
  const last = list[list.length - 1];
  if (changed && last && !last.changed && !last.text.trim() && list[list.length - 2]?.changed) {
    list.pop();
    list[list.length - 1].text += last.text;
    return push(list, text, changed);
  }
  const [word, space] = changed ? splitTrailingSpace(text) : [text, ""];
  if (last && last.changed === changed) last.text += word;
  else list.push({ text: word, changed });
  if (space) list.push({ text: space, changed: false });
}

function splitTrailingSpace(text) {
  const word = text.trimEnd();
  return word ? [word, text.slice(word.length)] : [text, ""];
}
