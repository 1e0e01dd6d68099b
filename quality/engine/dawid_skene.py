"""Dawid-Skene: EM over one confusion matrix per annotator, seeded from majority-vote posteriors, with Dirichlet
pseudo-counts, shrinkage toward one-coin for annotators with few labels, and gold answers clamped. Vectorised."""
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .crowd import CrowdLabels, vote_counts

Gold = Mapping[int, int] | tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class DawidSkeneFit:
    posterior: np.ndarray  # (n_tasks, n_classes) P(true class | labels)
    label: np.ndarray  # argmax posterior; -1 for a task with no label and no gold answer
    class_prior: np.ndarray  # (n_classes,)
    confusion: np.ndarray  # (n_annotators, n_classes, n_classes): row = true class, column = given label
    reliability: np.ndarray  # (n_annotators,) P(label == truth) = sum_k prior_k * confusion[a, k, k]
    labels_per_annotator: np.ndarray
    iterations: int
    converged: bool
    log_likelihood: float
    annotator_ids: list | None = None

    @property
    def confidence(self) -> np.ndarray:
        """Posterior of the chosen class per task: the number to route doubtful tasks to review with."""
        return self.posterior.max(axis=1)

    def confusion_by_annotator(self) -> dict:
        """{annotator_id: confusion matrix}, the `reliability` argument of a per-task recompute."""
        ids = self.annotator_ids if self.annotator_ids is not None else range(len(self.confusion))
        return {annotator_id: self.confusion[index] for index, annotator_id in enumerate(ids)}

    def reliability_by_annotator(self) -> dict:
        ids = self.annotator_ids if self.annotator_ids is not None else range(len(self.reliability))
        return {annotator_id: float(value) for annotator_id, value in zip(ids, self.reliability)}


def fit_dawid_skene(labels: CrowdLabels, *, gold: Gold | None = None, pseudo_count: float = 1.0,
                    one_coin_strength: float | None = None, max_iter: int = 100,
                    tol: float = 1e-6) -> DawidSkeneFit:
    """Fit Dawid-Skene by EM and decode every task.

    pseudo_count: Dirichlet pseudo-count added to every confusion cell and class-prior entry (no zero rows).
    one_coin_strength: pseudo-labels per confusion row drawn from the annotator's own one-coin matrix (one
      accuracy, errors spread evenly); default n_classes, i.e. n_classes**2 per annotator, so an annotator with
      few labels relative to that is shrunk toward one-coin while a prolific one keeps a full matrix.
    gold: {task_index: class_index} or (task_indices, class_indices); those posteriors are clamped to one-hot in
      every iteration, so the annotators' matrices are learned from the known answers too.
    Stops when the log-likelihood changes by less than `tol` (relative) or after `max_iter` iterations.
    """
    n_classes = labels.n_classes
    strength = float(n_classes if one_coin_strength is None else one_coin_strength)
    gold_tasks, gold_classes = _gold_arrays(gold)
    posterior = _initial_posterior(labels, gold_tasks, gold_classes)
    previous, converged, iterations, log_likelihood = -np.inf, False, 0, -np.inf
    for iterations in range(1, max_iter + 1):
        prior, confusion = _maximise(labels, posterior, pseudo_count, strength)
        posterior, log_likelihood = _expect(labels, prior, confusion)
        posterior[gold_tasks] = np.eye(n_classes)[gold_classes]
        if abs(log_likelihood - previous) <= tol * abs(log_likelihood):
            converged = True
            break
        previous = log_likelihood
    return _decode(labels, posterior, prior, confusion, gold_tasks, iterations, converged, log_likelihood)


def _gold_arrays(gold: Gold | None) -> tuple[np.ndarray, np.ndarray]:
    if gold is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if isinstance(gold, Mapping):
        return np.fromiter(gold.keys(), dtype=np.int64), np.fromiter(gold.values(), dtype=np.int64)
    return np.asarray(gold[0], dtype=np.int64), np.asarray(gold[1], dtype=np.int64)


def _initial_posterior(labels: CrowdLabels, gold_tasks: np.ndarray, gold_classes: np.ndarray) -> np.ndarray:
    """Majority-vote posteriors (vote shares); an unlabelled task starts uniform."""
    counts = vote_counts(labels) + 1e-12
    posterior = counts / counts.sum(axis=1, keepdims=True)
    posterior[gold_tasks] = np.eye(labels.n_classes)[gold_classes]
    return posterior


def _maximise(labels: CrowdLabels, posterior: np.ndarray, pseudo_count: float,
              strength: float) -> tuple[np.ndarray, np.ndarray]:
    """M-step: class prior and per-annotator confusion rows from the soft counts plus their priors."""
    n_classes, n_annotators = labels.n_classes, labels.n_annotators
    prior = posterior.sum(axis=0) + pseudo_count
    prior /= prior.sum()
    soft = posterior[labels.task]  # (n_labels, K): how much each label row counts for each true class
    key = labels.annotator * n_classes + labels.label
    counts = np.empty((n_annotators, n_classes, n_classes))
    for true_class in range(n_classes):
        counts[:, true_class, :] = np.bincount(key, weights=soft[:, true_class],
                                               minlength=n_annotators * n_classes).reshape(n_annotators, n_classes)
    counts += strength * _one_coin_rows(counts) + pseudo_count
    return prior, counts / counts.sum(axis=2, keepdims=True)


def _one_coin_rows(counts: np.ndarray) -> np.ndarray:
    """Each annotator's one-coin confusion matrix (Laplace-smoothed accuracy on the diagonal, errors spread evenly)."""
    n_classes = counts.shape[1]
    accuracy = (np.trace(counts, axis1=1, axis2=2) + 1.0) / (counts.sum(axis=(1, 2)) + 2.0)
    off_diagonal = (1.0 - accuracy) / max(n_classes - 1, 1)
    eye = np.eye(n_classes)
    return accuracy[:, None, None] * eye + off_diagonal[:, None, None] * (1.0 - eye)


def _expect(labels: CrowdLabels, prior: np.ndarray, confusion: np.ndarray) -> tuple[np.ndarray, float]:
    """E-step: log P(true class | labels) per task and the marginal log-likelihood."""
    n_classes = labels.n_classes
    # log confusion laid out so one gather by (annotator, given label) yields the row over true classes.
    log_by_given = np.log(confusion).transpose(0, 2, 1).reshape(-1, n_classes)
    contributions = log_by_given[labels.annotator * n_classes + labels.label]
    log_posterior = np.empty((labels.n_tasks, n_classes))
    for true_class in range(n_classes):
        log_posterior[:, true_class] = np.bincount(labels.task, weights=contributions[:, true_class],
                                                   minlength=labels.n_tasks)
    log_posterior += np.log(prior)
    peak = log_posterior.max(axis=1, keepdims=True)
    np.exp(log_posterior - peak, out=log_posterior)
    total = log_posterior.sum(axis=1, keepdims=True)
    log_posterior /= total
    return log_posterior, float((np.log(total) + peak).sum())


def _decode(labels: CrowdLabels, posterior: np.ndarray, prior: np.ndarray, confusion: np.ndarray,
            gold_tasks: np.ndarray, iterations: int, converged: bool, log_likelihood: float) -> DawidSkeneFit:
    known = labels.labels_per_task > 0
    known[gold_tasks] = True
    chosen = np.where(known, posterior.argmax(axis=1), -1)
    reliability = np.einsum("k,akk->a", prior, confusion)
    annotator_ids = list(labels.annotator_ids) if labels.annotator_ids is not None else None
    return DawidSkeneFit(posterior, chosen, prior, confusion, reliability, labels.labels_per_annotator,
                         iterations, converged, log_likelihood, annotator_ids)
