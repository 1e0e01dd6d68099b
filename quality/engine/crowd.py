"""The compact form of a project's classification labels: three equal-length integer arrays, one row per label,
and the encoders that build it from database rows."""
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

ABSENT, PRESENT = "absent", "present"


@dataclass(frozen=True)
class CrowdLabels:
    """Row r says: annotator `annotator[r]` gave task `task[r]` the class `label[r]` (all 0-based indices).

    `task_ids`, `annotator_ids` and `classes` map indices back to database ids and class names when known.
    One annotator should give a task at most one label per problem; duplicates count twice.
    """

    task: np.ndarray
    annotator: np.ndarray
    label: np.ndarray
    n_tasks: int
    n_annotators: int
    n_classes: int
    task_ids: np.ndarray | None = None
    annotator_ids: Sequence | None = None
    classes: Sequence[str] | None = None

    @classmethod
    def from_indices(cls, task: Sequence[int], annotator: Sequence[int], label: Sequence[int], *, n_classes: int,
                     n_tasks: int | None = None, n_annotators: int | None = None) -> "CrowdLabels":
        task, annotator, label = (np.asarray(column, dtype=np.int64) for column in (task, annotator, label))
        if not len(task) == len(annotator) == len(label):
            raise ValueError("task, annotator and label must have the same length")
        if len(label) and (label.min() < 0 or label.max() >= n_classes):
            raise ValueError(f"labels must lie in 0..{n_classes - 1}")
        return cls(task, annotator, label,
                   n_tasks=int(n_tasks if n_tasks is not None else (task.max() + 1 if len(task) else 0)),
                   n_annotators=int(n_annotators if n_annotators is not None
                                    else (annotator.max() + 1 if len(annotator) else 0)),
                   n_classes=n_classes)

    @property
    def seeds(self) -> np.ndarray:
        """Tie-breaking seeds per task: the database ids when known, so every run breaks a tie the same way."""
        return self.task_ids if self.task_ids is not None else np.arange(self.n_tasks)

    def encode_gold(self, gold: Mapping[int, str]) -> tuple[np.ndarray, np.ndarray]:
        """{task_id: class name} to the (task indices, class indices) fit_dawid_skene takes; gold tasks nobody
        labelled and classes outside `classes` are left out (they cannot inform the fit)."""
        class_index = {name: index for index, name in enumerate(self.classes or ())}
        known = [(task_id, class_index[name]) for task_id, name in gold.items() if name in class_index]
        task_ids = np.array([task_id for task_id, _ in known], dtype=np.int64)
        positions = np.searchsorted(self.seeds, task_ids)  # task_ids from encode_crowd_labels are sorted
        found = positions < self.n_tasks
        found[found] = self.seeds[positions[found]] == task_ids[found]
        return positions[found], np.array([index for _, index in known], dtype=np.int64)[found]

    @property
    def labels_per_task(self) -> np.ndarray:
        return np.bincount(self.task, minlength=self.n_tasks)

    @property
    def labels_per_annotator(self) -> np.ndarray:
        return np.bincount(self.annotator, minlength=self.n_annotators)


def encode_crowd_labels(rows: Iterable[tuple[int, object, str]], classes: Sequence[str]) -> CrowdLabels:
    """Build CrowdLabels from (task_id, annotator_id, class_name) rows, e.g. straight from a values_list() query.

    Rows whose class is not in `classes` (a value dropped from the label config, or an empty answer) are skipped:
    a missing label is no vote, not a vote for some default class.
    """
    class_index = {name: index for index, name in enumerate(classes)}
    kept = [(task_id, annotator_id, class_index[name]) for task_id, annotator_id, name in rows if name in class_index]
    task_ids, annotator_ids, labels = zip(*kept) if kept else ((), (), ())
    unique_tasks, task = np.unique(np.asarray(task_ids, dtype=np.int64), return_inverse=True)
    unique_annotators, annotator = np.unique(np.asarray(annotator_ids), return_inverse=True)
    return CrowdLabels(task.astype(np.int64), annotator.astype(np.int64), np.asarray(labels, dtype=np.int64),
                       n_tasks=len(unique_tasks), n_annotators=len(unique_annotators), n_classes=len(classes),
                       task_ids=unique_tasks, annotator_ids=unique_annotators.tolist(), classes=list(classes))


def encode_multiple_choice(rows: Iterable[tuple[int, object, Collection[str]]],
                           choices: Sequence[str]) -> dict[str, CrowdLabels]:
    """One binary (absent, present) problem per choice of a multiple-choice control.

    Each row is (task_id, annotator_id, the choices that annotator selected); an empty selection is an answer
    ("none of these") and votes `absent` for every choice. Fit Dawid-Skene on each problem separately.
    """
    rows = list(rows)
    return {
        choice: encode_crowd_labels(((task_id, annotator_id, PRESENT if choice in selected else ABSENT)
                                     for task_id, annotator_id, selected in rows), [ABSENT, PRESENT])
        for choice in choices
    }


def vote_counts(labels: CrowdLabels, weights: np.ndarray | None = None) -> np.ndarray:
    """(n_tasks, n_classes) votes per task and class; `weights` (one per annotator) weight each vote."""
    flat = labels.task * labels.n_classes + labels.label
    row_weights = None if weights is None else np.asarray(weights, dtype=np.float64)[labels.annotator]
    counts = np.bincount(flat, weights=row_weights, minlength=labels.n_tasks * labels.n_classes)
    return counts.reshape(labels.n_tasks, labels.n_classes)
