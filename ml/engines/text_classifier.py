"""Text classification (Choices on Text): TF-IDF over words and word pairs, then a logistic regression.

Trains in well under a second on thousands of labels and predicts ~20,000 short texts a second on one core.
Multiple-choice controls get one binary classifier per choice.
"""
import pickle
from collections import Counter
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MultiLabelBinarizer

from .base import LabelledText, NotEnoughLabels, Suggestion, Target, TaskInput, task_text

HOLDOUT_SHARE = 0.2
MIN_FOR_HOLDOUT = 20
MULTI_LABEL_THRESHOLD = 0.5


@dataclass
class TextClassifier:
    target: Target
    pipeline: Pipeline
    classes: list[str]
    version: str = ""

    def predict(self, tasks: list[TaskInput]) -> list[Suggestion]:
        texts = [task_text(task, self.target) for task in tasks]
        probabilities = self.pipeline.predict_proba(texts)
        return [self._suggest(row) for row in probabilities]

    def _suggest(self, row: np.ndarray) -> Suggestion:
        if self.target.multiple:
            chosen = [i for i in np.argsort(-row) if row[i] >= MULTI_LABEL_THRESHOLD] or [int(np.argmax(row))]
        else:
            chosen = [int(np.argmax(row))]
        score = float(min(row[i] for i in chosen))
        item = {
            "id": "choice", "from_name": self.target.control, "to_name": self.target.to_name, "type": "choices",
            "value": {"choices": [self.classes[i] for i in chosen]}, "score": round(score, 4),
        }
        return Suggestion(result=[item], score=round(score, 4), model_version=self.version)


def _new_pipeline(multiple: bool) -> Pipeline:
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_features=500_000, dtype=np.float32)
    classifier = LogisticRegression(C=10.0, max_iter=1000)
    return Pipeline([("tfidf", vectorizer), ("model", OneVsRestClassifier(classifier) if multiple else classifier)])


def _fit(examples: list[LabelledText], multiple: bool) -> tuple[Pipeline, list[str]]:
    texts = [example.text for example in examples]
    if multiple:
        binarizer = MultiLabelBinarizer()
        targets = binarizer.fit_transform([example.labels for example in examples])
        classes = list(binarizer.classes_)
    else:
        targets = [example.labels[0] for example in examples]
        classes = sorted(set(targets))
    pipeline = _new_pipeline(multiple).fit(texts, targets)
    if not multiple:
        classes = list(pipeline.classes_)
    return pipeline, classes


def check_enough(examples: list[LabelledText], min_labels: int) -> None:
    distinct = {label for example in examples for label in example.labels}
    if len(examples) < max(min_labels, 2) or len(distinct) < 2:
        raise NotEnoughLabels(
            f"the text classifier needs at least {max(min_labels, 2)} labelled tasks with two different choices "
            f"(has {len(examples)} with {len(distinct)})"
        )


def holdout_accuracy(examples: list[LabelledText], multiple: bool) -> dict:
    """Accuracy (exact choice set) on a fifth of the labels, learned from the rest; {} with too few labels."""
    if len(examples) < MIN_FOR_HOLDOUT:
        return {}
    learn, held = train_test_split(examples, test_size=HOLDOUT_SHARE, random_state=0)
    if len({label for example in learn for label in example.labels}) < 2:
        return {}
    model = TextClassifier(Target("c", "t", "text", "choices", (), multiple), *_fit(learn, multiple))
    predicted = model.predict([TaskInput(0, {"text": example.text}) for example in held])
    right = sum(set(s.result[0]["value"]["choices"]) == set(e.labels) for s, e in zip(predicted, held))
    return {"holdout_accuracy": round(right / len(held), 4), "holdout_size": len(held)}


def train(examples: list[LabelledText], target: Target, *, min_labels: int) -> tuple[bytes, dict]:
    """Fit on every label; answer the pickled model and its metrics. NotEnoughLabels below min_labels."""
    check_enough(examples, min_labels)
    pipeline, classes = _fit(examples, target.multiple)
    counts = Counter(label for example in examples for label in example.labels)
    metrics = {"labelled_tasks": len(examples), "classes": dict(sorted(counts.items())), **holdout_accuracy(examples, target.multiple)}
    return pickle.dumps({"pipeline": pipeline, "classes": classes}, protocol=5), metrics


def load(artifact: bytes, target: Target, version: str) -> TextClassifier:
    # Artifacts are written only by train() above and kept in our own database.
    saved = pickle.loads(artifact)
    return TextClassifier(target=target, pipeline=saved["pipeline"], classes=saved["classes"], version=version)
