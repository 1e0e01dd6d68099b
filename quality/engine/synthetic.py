"""Synthetic crowds with known truth (honest, spammer and biased annotators) and battles between models of known
strength, for tests, benchmarks and demos."""
from dataclasses import dataclass

import numpy as np

from .crowd import CrowdLabels


@dataclass(frozen=True)
class SyntheticCrowd:
    labels: CrowdLabels
    truth: np.ndarray  # true class per task
    confusion: np.ndarray  # (n_annotators, K, K) the matrices the labels were drawn from


def annotator_confusion(kind: str, n_classes: int, accuracy: float = 0.7) -> np.ndarray:
    """"honest": right with `accuracy`, errors spread evenly; "spammer": uniform random whatever the truth;
    "biased": answers the next class (k -> k+1) more often than the true one, a systematic confusion."""
    eye = np.eye(n_classes)
    if kind == "honest":
        return accuracy * eye + (1 - accuracy) / (n_classes - 1) * (1 - eye)
    if kind == "spammer":
        return np.full((n_classes, n_classes), 1.0 / n_classes)
    if kind == "biased":
        return 0.25 * eye + 0.75 * np.roll(eye, 1, axis=1)
    raise ValueError(f"unknown annotator kind {kind!r}")


def simulate_crowd(n_tasks: int, kinds: list[str], *, n_classes: int = 5, labels_per_task: int = 3,
                   accuracy: float = 0.7, seed: int = 0) -> SyntheticCrowd:
    """Each task gets `labels_per_task` distinct annotators drawn at random; truth from a mildly skewed prior."""
    rng = np.random.default_rng(seed)
    prior = np.linspace(2.0, 1.0, n_classes)
    truth = rng.choice(n_classes, size=n_tasks, p=prior / prior.sum())
    confusion = np.stack([annotator_confusion(kind, n_classes, accuracy) for kind in kinds])
    annotator = np.concatenate([rng.permutation(len(kinds))[:labels_per_task] for _ in range(n_tasks)]) \
        if n_tasks <= 10_000 else _fast_assignment(rng, n_tasks, len(kinds), labels_per_task)
    task = np.repeat(np.arange(n_tasks), labels_per_task)
    cumulative = confusion.cumsum(axis=2)[annotator, truth[task]]
    label = (rng.random(len(task))[:, None] > cumulative).sum(axis=1).clip(max=n_classes - 1)
    labels = CrowdLabels(task, annotator.astype(np.int64), label.astype(np.int64), n_tasks=n_tasks,
                         n_annotators=len(kinds), n_classes=n_classes)
    return SyntheticCrowd(labels, truth, confusion)


def _fast_assignment(rng: np.random.Generator, n_tasks: int, n_annotators: int, per_task: int) -> np.ndarray:
    """Distinct annotators per task without a Python loop: the first columns of a random order per row."""
    return np.argsort(rng.random((n_tasks, n_annotators)), axis=1)[:, :per_task].ravel()


def macro_f1(predicted: np.ndarray, truth: np.ndarray, n_classes: int) -> float:
    """Mean F1 over classes, beside accuracy: with imbalanced classes accuracy hides a neglected class."""
    scores = []
    for label in range(n_classes):
        hits = np.sum((predicted == label) & (truth == label))
        claimed, actual = np.sum(predicted == label), np.sum(truth == label)
        scores.append(2 * hits / (claimed + actual) if claimed + actual else 1.0)
    return float(np.mean(scores))


@dataclass(frozen=True)
class SyntheticBattles:
    model_a: np.ndarray
    model_b: np.ndarray
    outcome: np.ndarray  # 1 model_a won, 0 model_b won, 0.5 a tie


def simulate_battles(strengths: np.ndarray, n_battles: int, *, tie_share: float = 0.0, seed: int = 0) -> SyntheticBattles:
    """Battles between random pairs of distinct models whose expected score is Bradley-Terry's sigmoid(s_a - s_b),
    `strengths` in nats: a tie with probability `tie_share` (capped where a win is nearly certain), else a win
    drawn so that the expected score stays the model's."""
    rng = np.random.default_rng(seed)
    model_count = len(strengths)
    model_a = rng.integers(model_count, size=n_battles)
    model_b = (model_a + rng.integers(1, model_count, size=n_battles)) % model_count
    expected = 1.0 / (1.0 + np.exp(np.asarray(strengths)[model_b] - np.asarray(strengths)[model_a]))
    tie_chance = np.minimum(tie_share, 2 * np.minimum(expected, 1 - expected))
    with np.errstate(invalid="ignore", divide="ignore"):
        win_chance = np.where(tie_chance < 1, (expected - tie_chance / 2) / (1 - tie_chance), 0.5)
    draw = rng.random(n_battles)
    outcome = np.where(draw < tie_chance, 0.5, (rng.random(n_battles) < win_chance).astype(float))
    return SyntheticBattles(model_a, model_b, outcome)
