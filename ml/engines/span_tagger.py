"""Named-entity spans (Labels on Text): a per-token logistic regression over word, shape and context features.

It learns the entities annotators marked (the word itself is a feature) and generalises a little through
capitalisation, affixes and neighbouring words; adjacent tokens with the same label merge into one span.
"""
import pickle
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction import FeatureHasher
from sklearn.linear_model import LogisticRegression

from .base import LabelledSpans, NotEnoughLabels, Suggestion, Target, TaskInput, overall_score

OUTSIDE = "O"
TOKEN = re.compile(r"\w+|[^\w\s]")
HASHED_FEATURES = 2**16


def tokens(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in TOKEN.finditer(text)]


def _shape(word: str) -> str:
    shape = re.sub(r"[A-Z]", "X", word)
    shape = re.sub(r"[a-z]", "x", shape)
    return re.sub(r"\d", "d", shape)[:6]


def _features(text: str, offsets: list[tuple[int, int]]) -> list[dict]:
    words = [text[start:end] for start, end in offsets]
    rows = []
    for index, word in enumerate(words):
        previous = words[index - 1].lower() if index else "<s>"
        following = words[index + 1].lower() if index + 1 < len(words) else "</s>"
        rows.append({
            f"w={word.lower()}": 1, f"shape={_shape(word)}": 1, f"pre={word[:3].lower()}": 1,
            f"suf={word[-3:].lower()}": 1, f"prev={previous}": 1, f"next={following}": 1,
            f"prev+w={previous}|{word.lower()}": 1, "title": int(word.istitle()), "first": int(index == 0),
            "bias": 1,
        })
    return rows


def _token_labels(offsets: list[tuple[int, int]], spans) -> list[str]:
    labels = [OUTSIDE] * len(offsets)
    for start, end, label in spans:
        for index, (token_start, token_end) in enumerate(offsets):
            if token_start >= start and token_end <= end:
                labels[index] = label
    return labels


@dataclass
class SpanTagger:
    target: Target
    model: LogisticRegression
    version: str = ""

    def predict(self, tasks: list[TaskInput]) -> list[Suggestion]:
        texts = [task.data.get(self.target.data_field) or "" for task in tasks]
        offsets = [tokens(text) for text in texts]
        rows = [row for text, spans in zip(texts, offsets) for row in _features(text, spans)]
        if not rows:
            return [Suggestion() for _ in tasks]
        probabilities = self.model.predict_proba(_hasher().transform(rows))
        suggestions, position = [], 0
        for text, spans in zip(texts, offsets):
            suggestions.append(self._suggest(text, spans, probabilities[position:position + len(spans)]))
            position += len(spans)
        return suggestions

    def _suggest(self, text: str, offsets: list[tuple[int, int]], probabilities: np.ndarray) -> Suggestion:
        classes = list(self.model.classes_)
        best = probabilities.argmax(axis=1) if len(offsets) else []
        items, scores = [], []
        for start, end, label, token_scores in _merge(offsets, [classes[i] for i in best], probabilities.max(axis=1) if len(offsets) else []):
            score = round(float(np.mean(token_scores)), 4)
            scores.append(score)
            items.append({
                "id": f"span{len(items)}", "from_name": self.target.control, "to_name": self.target.to_name,
                "type": "labels", "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]},
                "score": score,
            })
        return Suggestion(result=items, score=overall_score(scores), model_version=self.version)


def _merge(offsets, labels, scores):
    """Runs of adjacent tokens with the same label, as (start, end, label, token scores)."""
    runs: list[list] = []  # [start, end, label, scores, index of the run's last token]
    for index, ((start, end), label, score) in enumerate(zip(offsets, labels, scores)):
        if label == OUTSIDE:
            continue
        if runs and runs[-1][2] == label and runs[-1][4] == index - 1:
            runs[-1][1], runs[-1][4] = end, index
            runs[-1][3].append(score)
        else:
            runs.append([start, end, label, [score], index])
    return [(start, end, label, token_scores) for start, end, label, token_scores, _ in runs]


def _hasher() -> FeatureHasher:
    return FeatureHasher(n_features=HASHED_FEATURES, input_type="dict", alternate_sign=False)


def check_enough(examples: list[LabelledSpans], min_labels: int) -> None:
    labelled = sum(1 for example in examples if example.spans)
    if len(examples) < max(min_labels, 2) or not labelled:
        raise NotEnoughLabels(
            f"the span tagger needs at least {max(min_labels, 2)} labelled texts with at least one span "
            f"(has {len(examples)}, {labelled} with spans)"
        )


def _fit(examples: list[LabelledSpans]) -> LogisticRegression:
    rows, targets = [], []
    for example in examples:
        offsets = tokens(example.text)
        rows.extend(_features(example.text, offsets))
        targets.extend(_token_labels(offsets, example.spans))
    return LogisticRegression(C=5.0, max_iter=200).fit(_hasher().transform(rows), targets)


def train(examples: list[LabelledSpans], target: Target, *, min_labels: int) -> tuple[bytes, dict]:
    check_enough(examples, min_labels)
    model = _fit(examples)
    counts = Counter(label for example in examples for _, _, label in example.spans)
    metrics = {"labelled_tasks": len(examples), "spans": dict(sorted(counts.items()))}
    return pickle.dumps({"model": model}, protocol=5), metrics


def load(artifact: bytes, target: Target, version: str) -> SpanTagger:
    # Artifacts are written only by train() above and kept in our own database.
    return SpanTagger(target=target, model=pickle.loads(artifact)["model"], version=version)
