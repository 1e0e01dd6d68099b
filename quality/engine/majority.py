"""Project-level majority vote over CrowdLabels, with ties broken on purpose (see `majority_vote`)."""
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .crowd import CrowdLabels, vote_counts
from .ties import break_ties


@dataclass(frozen=True)
class MajorityVote:
    label: np.ndarray  # chosen class per task; -1 for a task nobody labelled
    vote_share: np.ndarray  # (weighted) share of the task's votes for the chosen class; 0 when unlabelled
    tie_rule: np.ndarray  # ties.NO_TIE, BROKEN_BY_PREFERENCE or BROKEN_BY_SEED per task

    @property
    def tied(self) -> np.ndarray:
        return self.tie_rule != 0


def class_prior(labels: CrowdLabels) -> np.ndarray:
    """Each class's share of all labels, with one pseudo-count per class so an unseen class is not impossible."""
    counts = np.bincount(labels.label, minlength=labels.n_classes) + 1.0
    return counts / counts.sum()


def majority_vote(labels: CrowdLabels, *, weights: np.ndarray | None = None,
                  tie_break: Literal["prior", "seeded"] = "prior",
                  posterior: np.ndarray | None = None) -> MajorityVote:
    """The most voted class per task.

    Ties: if `posterior` (n_tasks, n_classes), e.g. a Dawid-Skene fit's, is given, the tied class it rates highest
    wins; else with tie_break="prior" the tied class that is most common in the whole project wins (the Bayes
    choice when annotators are equally accurate); whatever is still tied, or everything with "seeded", is drawn
    at random seeded from the task id (`labels.seeds`). Never "first in config order", which favours one class.
    """
    counts = vote_counts(labels, weights)
    preference = posterior if posterior is not None else (class_prior(labels) if tie_break == "prior" else None)
    winner, rule = break_ties(counts, labels.seeds, preference)
    totals = counts.sum(axis=1)
    unlabelled = totals == 0
    chosen = counts[np.arange(labels.n_tasks), winner]
    share = np.divide(chosen, totals, out=np.zeros(labels.n_tasks), where=~unlabelled)
    return MajorityVote(np.where(unlabelled, -1, winner), share, np.where(unlabelled, 0, rule).astype(np.int8))
