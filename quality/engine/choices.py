"""Per-task consensus for choices (single and multiple) and free-text answers, optionally weighted by a project-level
Dawid-Skene fit so a recompute after one submission needs no refit."""
from collections.abc import Mapping, Sequence

import numpy as np

from .outcome import Annotations, TaskConsensus, mean_pairwise, result_item, set_f1
from .ties import TIE_RULE_NAMES, break_ties, stable_seed, top_mask

Reliability = Mapping[object, float | np.ndarray]  # annotator_id -> one-coin accuracy or confusion matrix


def aggregate_single_choice(control: dict, annotations: Annotations, *, seed: int, method: str,
                            reliability: Reliability | None, class_prior: Sequence[float] | None) -> TaskConsensus:
    """An annotator with no item (or a value not in the config) gave no answer: no vote, not counted."""
    values = list(control["values"])
    answers = [(annotator, values.index(choice)) for annotator, items in annotations
               if (choice := _first_choice(items)) in values]
    return _vote(control, answers, values, seed=seed, method=method, reliability=reliability,
                 class_prior=class_prior, make_value=lambda chosen: {"choices": [chosen]}, item_type="choices")


def aggregate_text(control: dict, annotations: Annotations, *, seed: int) -> TaskConsensus:
    """TextArea: the most frequent answer after trimming white space; agreement is exact match between pairs."""
    texts = [(annotator, " ".join(_texts(items))) for annotator, items in annotations]
    texts = [(annotator, text) for annotator, text in texts if text]
    values = sorted({text for _, text in texts})
    answers = [(annotator, values.index(text)) for annotator, text in texts]
    outcome = _vote(control, answers, values, seed=seed, method="majority", reliability=None, class_prior=None,
                    make_value=lambda chosen: {"text": [chosen]}, item_type="textarea")
    outcome.method = "exact_match"
    return outcome


def aggregate_multiple_choice(control: dict, annotations: Annotations, *, seed: int, method: str,
                              reliability: Reliability | None) -> TaskConsensus:
    """Each choice is a yes/no vote among all annotators (an empty selection says no to every choice); a choice
    is kept when its yes side wins, ties broken per choice by the seeded draw. One-coin accuracies weight votes
    when given; confusion matrices are not used here (fit DS per choice on encode_multiple_choice problems)."""
    values = list(control["values"])
    selections = [(annotator, {choice for item in items for choice in item.get("value", {}).get("choices", [])})
                  for annotator, items in annotations]
    if not selections:
        return TaskConsensus([], None, None, method, {"reason": "no annotations"})
    weights = _scalar_weights(reliability) if method == "dawid_skene" else None
    scores = np.array([_binary_scores([choice in chosen for _, chosen in selections],
                                      [weights(annotator) if weights else None for annotator, _ in selections])
                       for choice in values]).reshape(len(values), 2)
    winner, rule = break_ties(scores, np.array([stable_seed(seed, choice) for choice in values]))
    kept = [choice for choice, side in zip(values, winner) if side == 1]
    support = _normalise(scores, log_space=weights is not None)[np.arange(len(values)), winner]
    result = [result_item(control, "choices", {"choices": kept}, seed=seed, index=0)] if kept else []
    yes_votes = {choice: sum(choice in chosen for _, chosen in selections) for choice in values}
    details = {"votes": {choice: count for choice, count in yes_votes.items() if count},
               "per_label": _specific_agreement(np.array(list(yes_votes.values()), dtype=float), values,
                                                raters=len(selections)),
               "ties": [choice for choice, how in zip(values, rule) if how]}
    return TaskConsensus(result, mean_pairwise([chosen for _, chosen in selections], set_f1),
                         float(support.min()) if len(values) else None,
                         "dawid_skene" if weights else "majority", details, len(selections))


def _vote(control: dict, answers: list[tuple[object, int]], values: list[str], *, seed: int, method: str,
          reliability: Reliability | None, class_prior: Sequence[float] | None, make_value,
          item_type: str) -> TaskConsensus:
    if not answers:
        return TaskConsensus([], None, None, method, {"reason": "no answers"})
    counts = np.bincount([index for _, index in answers], minlength=len(values)).astype(float)
    use_model = method == "dawid_skene" and bool(reliability)
    scores = _log_posterior(answers, len(values), reliability, class_prior) if use_model else counts
    preference = None if class_prior is None else np.asarray(class_prior, dtype=float)
    winner, rule = break_ties(scores[None, :], np.array([seed]), preference)
    chosen = int(winner[0])
    details = {"votes": {values[index]: int(count) for index, count in enumerate(counts) if count},
               "per_label": _specific_agreement(counts, values)}
    if rule[0]:
        tied = np.flatnonzero(top_mask(scores[None, :])[0])
        details["tie"] = {"between": [values[index] for index in tied], "broken_by": TIE_RULE_NAMES[int(rule[0])]}
    if method == "dawid_skene" and not use_model:
        details["fallback"] = "no reliability given: plain majority vote"
    return TaskConsensus([result_item(control, item_type, make_value(values[chosen]), seed=seed, index=0)],
                         mean_pairwise([index for _, index in answers], lambda a, b: float(a == b)),
                         float(_normalise(scores[None, :], log_space=use_model)[0, chosen]),
                         "dawid_skene" if use_model else "majority", details, len(answers))


def _log_posterior(answers: list[tuple[object, int]], n_classes: int, reliability: Reliability,
                   class_prior: Sequence[float] | None) -> np.ndarray:
    """log P(class | these votes) up to a constant, each vote through its annotator's confusion matrix or
    one-coin accuracy; an annotator the fit has not seen gets the population average."""
    fallback = _population_average(reliability)
    scores = np.log(np.clip(class_prior, 1e-12, None)) if class_prior is not None else np.zeros(n_classes)
    for annotator, given in answers:
        scores = scores + _log_likelihood_of_vote(reliability.get(annotator, fallback), given, n_classes)
    return scores


def _log_likelihood_of_vote(model: float | np.ndarray, given: int, n_classes: int) -> np.ndarray:
    """log P(annotator says `given` | true class k) for every k."""
    if np.ndim(model) == 2:
        matrix = np.asarray(model, dtype=float)
        if matrix.shape != (n_classes, n_classes):
            raise ValueError(f"confusion matrix must be {n_classes}x{n_classes}, got {matrix.shape}")
        return np.log(np.clip(matrix[:, given], 1e-12, None))
    accuracy = float(np.clip(model, 1e-3, 1 - 1e-3))
    wrong = (1 - accuracy) / max(n_classes - 1, 1)
    return np.log(np.where(np.arange(n_classes) == given, accuracy, wrong))


def _population_average(reliability: Reliability) -> float | np.ndarray:
    models = list(reliability.values())
    matrices = [np.asarray(model, dtype=float) for model in models if np.ndim(model) == 2]
    return np.mean(matrices, axis=0) if matrices else float(np.mean(models))


def _scalar_weights(reliability: Reliability | None):
    scalars = {annotator: float(model) for annotator, model in (reliability or {}).items() if np.ndim(model) == 0}
    if not scalars:
        return None
    fallback = float(np.mean(list(scalars.values())))
    return lambda annotator: scalars.get(annotator, fallback)


def _binary_scores(said_yes: list[bool], accuracies: list[float | None]) -> list[float]:
    """[no, yes] vote counts, or one-coin log-likelihoods when every vote has an accuracy."""
    if any(accuracy is None for accuracy in accuracies):
        yes = sum(said_yes)
        return [len(said_yes) - yes, yes]
    totals = sum(_log_likelihood_of_vote(accuracy, int(yes), 2) for yes, accuracy in zip(said_yes, accuracies))
    return list(totals)


def _normalise(scores: np.ndarray, *, log_space: bool) -> np.ndarray:
    """Rows of vote counts to shares, or rows of log scores to posteriors."""
    if log_space:
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    return scores / scores.sum(axis=1, keepdims=True)


def _specific_agreement(counts: np.ndarray, values: list[str], raters: int | None = None) -> dict[str, float]:
    """Per chosen value: the chance that another annotator agreed with one who chose it (needs two annotators)."""
    raters = counts.sum() if raters is None else raters
    if raters < 2:
        return {}
    return {values[index]: float((count - 1) / (raters - 1)) for index, count in enumerate(counts) if count}


def _first_choice(items: list[dict]) -> str | None:
    for item in items:
        chosen = item.get("value", {}).get("choices") or []
        if chosen:
            return chosen[0]
    return None


def _texts(items: list[dict]) -> list[str]:
    return [text.strip() for item in items for text in item.get("value", {}).get("text", []) if text.strip()]
