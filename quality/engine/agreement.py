"""Agreement statistics: Krippendorff's alpha (nominal and interval), Fleiss' and Cohen's kappa, per-task pairwise agreement, per-class
specific agreement, and the project summary (overall, per label, histogram of per-task agreement)."""
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .crowd import CrowdLabels, vote_counts

HISTOGRAM_BINS = 10


def krippendorff_alpha_nominal(counts: np.ndarray) -> float | None:
    """Krippendorff's alpha for nominal data from an (units, values) matrix of how many coders gave each value.

    Units may have any number of coders (missing data is allowed); units with fewer than two values are not
    pairable and drop out, as in Krippendorff's definition. None when nothing is pairable or only one value
    occurs at all (expected disagreement is zero: alpha is undefined, not 1).
    """
    counts = np.asarray(counts, dtype=np.float64)
    coders = counts.sum(axis=1)
    pairable = counts[coders >= 2]
    if not len(pairable):
        return None
    per_unit = coders[coders >= 2]
    observed_agreement = (pairable * (pairable - 1)).sum(axis=1) / (per_unit - 1)  # o_cc summed per unit
    value_totals = pairable.sum(axis=0)
    n = value_totals.sum()
    expected_disagreement = n * n - (value_totals ** 2).sum()
    if expected_disagreement <= 0:
        return None
    return float(1.0 - (n - 1) * (n - observed_agreement.sum()) / expected_disagreement)


def krippendorff_alpha_interval(counts: np.ndarray, values: Sequence[float], *,
                                expected_disagreement: float | None = None) -> float | None:
    """Krippendorff's alpha for interval data from an (units, values) matrix of how many coders gave each value,
    `values` being the numbers the columns stand for (a rating scale); squared differences weigh disagreements.

    Units with fewer than two values drop out, as for the nominal alpha. `expected_disagreement` replaces the
    estimate from the pooled values: a single unit cannot estimate it (its alpha would be 0 whatever the coders
    said), so a caller with one unit passes what chance would give on its scale. None when nothing is pairable or
    the pooled values never differ (alpha is undefined there, not 1).
    """
    counts = np.asarray(counts, dtype=np.float64)
    points = np.asarray(values, dtype=np.float64)
    coders = counts.sum(axis=1)
    pairable, per_unit = counts[coders >= 2], coders[coders >= 2]
    if not len(pairable):
        return None
    squared = (points[:, None] - points[None, :]) ** 2
    # Coincidences: within each unit every ordered pair of distinct coders' values, weighted 1/(coders - 1).
    coincidences = np.einsum("uc,uk->ck", pairable / (per_unit - 1)[:, None], pairable)
    coincidences -= np.diag((pairable / (per_unit - 1)[:, None]).sum(axis=0))
    value_totals = coincidences.sum(axis=1)
    n = value_totals.sum()
    observed = float((coincidences * squared).sum() / n)
    if expected_disagreement is None:
        expected_disagreement = float(value_totals @ squared @ value_totals / (n * (n - 1)))
    if expected_disagreement <= 0:
        return None
    return 1.0 - observed / expected_disagreement


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa from a (subjects, categories) matrix of rater counts.

    Defined only when every subject has the same number of raters (at least 2): otherwise None, and use
    Krippendorff's alpha. Also None when every rating falls in one category (chance agreement is 1).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if not len(counts):
        return None
    raters = counts.sum(axis=1)
    if raters[0] < 2 or not np.all(raters == raters[0]):
        return None
    n = raters[0]
    per_subject = ((counts * counts).sum(axis=1) - n) / (n * (n - 1))
    category_share = counts.sum(axis=0) / counts.sum()
    chance = float((category_share ** 2).sum())
    if chance >= 1.0:
        return None
    return float((per_subject.mean() - chance) / (1.0 - chance))


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's kappa between two raters from their (first, second) answers on the same subjects. Written here
    rather than taken from scikit-learn's metrics, whose import took the web process 2.8 s here, for this
    one sum. None with no pairs, or when chance agreement is 1 (both always gave the same single answer)."""
    if not pairs:
        return None
    classes = {answer: index for index, answer in enumerate(dict.fromkeys(a for pair in pairs for a in pair))}
    table = np.zeros((len(classes), len(classes)))
    for first, second in pairs:
        table[classes[first], classes[second]] += 1
    total = table.sum()
    observed = np.trace(table) / total
    chance = float(table.sum(axis=1) @ table.sum(axis=0)) / total**2
    if chance >= 1.0:
        return None
    return float((observed - chance) / (1.0 - chance))


def pairwise_agreement(counts: np.ndarray) -> np.ndarray:
    """Per task, the share of ordered pairs of annotators that gave the same class; NaN below two annotators.

    Chosen over "share agreeing with the consensus" because it does not depend on how a tie was broken, and it
    is the observed-agreement term of Fleiss' kappa and Krippendorff's alpha, so the three read alike.
    """
    counts = np.asarray(counts, dtype=np.float64)
    raters = counts.sum(axis=1)
    pairs = raters * (raters - 1)
    agreeing = (counts * (counts - 1)).sum(axis=1)
    return np.divide(agreeing, pairs, out=np.full(len(counts), np.nan), where=pairs > 0)


def specific_agreement(counts: np.ndarray) -> np.ndarray:
    """Per class: given that one annotator chose it, the chance another annotator of the same task did too.
    NaN for a class no task with two or more annotators received."""
    counts = np.asarray(counts, dtype=np.float64)
    raters = counts.sum(axis=1, keepdims=True)
    pairable = raters[:, 0] >= 2
    agreeing = (counts * (counts - 1))[pairable].sum(axis=0)
    possible = (counts * (raters - 1))[pairable].sum(axis=0)
    return np.divide(agreeing, possible, out=np.full(counts.shape[1], np.nan), where=possible > 0)


@dataclass(frozen=True)
class AgreementSummary:
    overall: float | None  # mean per-task agreement over tasks that have one
    per_label: dict[str, float | None]
    histogram: list[int]  # tasks per tenth of 0..1 (the last bin includes 1.0)
    task_count: int  # tasks with an agreement value (two or more annotators)
    krippendorff_alpha: float | None = None
    fleiss_kappa: float | None = None


def agreement_histogram(values: Sequence[float]) -> list[int]:
    histogram, _ = np.histogram(np.clip(values, 0.0, 1.0), bins=HISTOGRAM_BINS, range=(0.0, 1.0))
    return histogram.tolist()


def summarize_agreement(task_agreement: Iterable[float | None],
                        label_agreement: Iterable[Mapping[str, float | None]] = ()) -> AgreementSummary:
    """Project summary for any control type: the mean and histogram of per-task agreement (None/NaN skipped:
    single-annotator tasks have no agreement) and, per label, the mean of the per-task per-label values
    (TaskConsensus.details["per_label"])."""
    values = np.array([value for value in task_agreement if value is not None and not np.isnan(value)], dtype=float)
    by_label: dict[str, list[float]] = defaultdict(list)
    for per_task in label_agreement:
        for label, value in per_task.items():
            if value is not None and not np.isnan(value):
                by_label[label].append(value)
    return AgreementSummary(overall=float(values.mean()) if len(values) else None,
                            per_label={label: float(np.mean(found)) for label, found in sorted(by_label.items())},
                            histogram=agreement_histogram(values), task_count=len(values))


def choices_agreement_summary(labels: CrowdLabels) -> AgreementSummary:
    """The project summary for one single-choice control, straight from its CrowdLabels: per-task pairwise
    agreement, per-class specific agreement, Krippendorff's alpha and (equal rater counts only) Fleiss' kappa."""
    counts = vote_counts(labels)
    per_task = pairwise_agreement(counts)
    per_task = per_task[~np.isnan(per_task)]
    classes = labels.classes if labels.classes is not None else [str(index) for index in range(labels.n_classes)]
    per_class = specific_agreement(counts)
    rated = counts[counts.sum(axis=1) > 0]
    return AgreementSummary(
        overall=float(per_task.mean()) if len(per_task) else None,
        per_label={name: (None if np.isnan(value) else float(value)) for name, value in zip(classes, per_class)},
        histogram=agreement_histogram(per_task), task_count=len(per_task),
        krippendorff_alpha=krippendorff_alpha_nominal(counts), fleiss_kappa=fleiss_kappa(rated))
