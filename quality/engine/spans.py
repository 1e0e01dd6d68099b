"""Per-task consensus for text spans: a character-level vote per label, decoded back into spans, and strict span
F1 between pairs of annotators as agreement."""
from dataclasses import dataclass

import numpy as np

from .outcome import Annotations, TaskConsensus, mean_pairwise, result_item, set_f1


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str
    text: str


def aggregate_spans(control: dict, annotations: Annotations, *, seed: int, min_votes: int | None = None,
                    text: str | None = None) -> TaskConsensus:
    """A character belongs to a label's span when at least `min_votes` annotators covered it with that label
    (default: a strict majority of the task's annotators, counting those who marked nothing); each label is voted
    on its own, so overlapping spans of different labels both survive, and an annotator's overlapping spans of
    one label count once. Runs of kept characters become the consensus spans; touching runs of one label merge.
    `text`, the task's text when known, gives each span's text; else it is rebuilt from the annotators' spans."""
    annotator_count = len(annotations)
    spans_by_annotator = [_spans(items) for _, items in annotations]
    needed = min_votes if min_votes is not None else annotator_count // 2 + 1
    characters = _known_characters(spans_by_annotator)
    kept: list[tuple[Span, float]] = []
    for label in sorted({span.label for spans in spans_by_annotator for span in spans}):
        votes = _character_votes(spans_by_annotator, label)
        for start, end in _runs(votes >= needed):
            span_text = text[start:end] if text is not None else \
                "".join(characters.get(position, "") for position in range(start, end))
            kept.append((Span(start, end, label, span_text), float(votes[start:end].mean()) / annotator_count))
    kept.sort(key=lambda pair: (pair[0].start, pair[0].end, pair[0].label))
    result = [result_item(control, "labels", {"start": span.start, "end": span.end, "text": span.text,
                                              "labels": [span.label]}, seed=seed, index=index)
              for index, (span, _) in enumerate(kept)]
    agreement, per_label = span_agreement(spans_by_annotator)
    confidence = float(np.mean([support for _, support in kept])) if kept else None
    details = {"min_votes": needed, "per_label": per_label, "span_counts": [len(spans) for spans in spans_by_annotator]}
    return TaskConsensus(result, agreement, confidence, "span_vote", details, annotator_count)


def span_agreement(spans_by_annotator: list[set[Span]]) -> tuple[float | None, dict[str, float]]:
    """Mean pairwise strict span F1 (same start, end and label), overall and per label."""
    keys = [{(span.start, span.end, span.label) for span in spans} for spans in spans_by_annotator]
    overall = mean_pairwise(keys, set_f1)
    if overall is None:
        return None, {}
    labels = sorted({key[2] for annotator_keys in keys for key in annotator_keys})
    per_label = {label: mean_pairwise([{key for key in annotator_keys if key[2] == label} for annotator_keys in keys],
                                      set_f1, skip_empty_pairs=True) for label in labels}
    return overall, per_label


def _spans(items: list[dict]) -> set[Span]:
    spans = set()
    for item in items:
        value = item.get("value", {})
        if "start" not in value or "end" not in value:
            continue
        for label in value.get("labels") or [""]:
            spans.add(Span(int(value["start"]), int(value["end"]), label, value.get("text", "")))
    return spans


def _character_votes(spans_by_annotator: list[set[Span]], label: str) -> np.ndarray:
    length = max((span.end for spans in spans_by_annotator for span in spans), default=0)
    votes = np.zeros(length, dtype=np.int64)
    for spans in spans_by_annotator:
        covered = np.zeros(length, dtype=bool)
        for span in spans:
            if span.label == label:
                covered[span.start:span.end] = True
        votes += covered
    return votes


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def _known_characters(spans_by_annotator: list[set[Span]]) -> dict[int, str]:
    """The task text is not passed in, so the consensus span's text is rebuilt from the annotators' span texts
    (Python string indices, so any Unicode); the first annotator's text wins where they disagree."""
    characters: dict[int, str] = {}
    for spans in spans_by_annotator:
        for span in sorted(spans, key=lambda span: (span.start, span.end, span.label)):
            if len(span.text) == span.end - span.start:
                for offset, character in enumerate(span.text):
                    characters.setdefault(span.start + offset, character)
    return characters
