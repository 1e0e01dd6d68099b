"""Zero-shot text classification (Choices on Text) before any label exists: sentence-embedding similarity.

Each choice becomes the sentence "This text is about {choice}."; a task gets the choice whose sentence is
closest (cosine) to its text. The score is a softmax over those similarities, sharpened by a temperature,
because raw cosines of unrelated sentences sit close together (0.0-0.6) and would all look alike.
Multiple-choice controls get every choice with a softmax share of at least MULTI_CHOICE_SHARE (else the best one).
"""
from dataclasses import dataclass

import numpy as np

from .base import Suggestion, Target, TaskInput, task_text
from .sentence_embeddings import MODEL_NAME, load_encoder, softmax

VERSION = f"zero-shot-{MODEL_NAME}"
HYPOTHESIS = "This text is about {label}."
TEMPERATURE = 0.05
MULTI_CHOICE_SHARE = 0.25


@dataclass
class ZeroShotClassifier:
    target: Target
    version: str = VERSION

    def __post_init__(self):
        self._encoder = load_encoder()
        self._choice_vectors = self._encoder.embed([HYPOTHESIS.format(label=label) for label in self.target.labels])

    def predict(self, tasks: list[TaskInput]) -> list[Suggestion]:
        texts = [task_text(task, self.target) for task in tasks]
        present = [index for index, text in enumerate(texts) if text.strip()]
        suggestions = [Suggestion() for _ in tasks]  # a task with no text gets no suggestion
        if present:
            vectors = self._encoder.embed([texts[index] for index in present])
            for index, shares in zip(present, choice_shares(vectors, self._choice_vectors)):
                suggestions[index] = self._suggest(shares)
        return suggestions

    def _suggest(self, shares: np.ndarray) -> Suggestion:
        best_first = np.argsort(-shares)
        chosen = [best_first[0]]
        if self.target.multiple:
            chosen = [index for index in best_first if shares[index] >= MULTI_CHOICE_SHARE] or chosen
        score = round(float(min(shares[index] for index in chosen)), 4)
        item = {
            "id": "choice", "from_name": self.target.control, "to_name": self.target.to_name, "type": "choices",
            "value": {"choices": [self.target.labels[index] for index in chosen]}, "score": score,
        }
        return Suggestion(result=[item], score=score, model_version=self.version)


def choice_shares(text_vectors: np.ndarray, choice_vectors: np.ndarray) -> np.ndarray:
    """(texts, choices) softmax over cosine similarities / TEMPERATURE; the vectors are unit length."""
    return softmax(text_vectors @ choice_vectors.T / TEMPERATURE)
