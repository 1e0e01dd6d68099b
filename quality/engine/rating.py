"""Per-task consensus for ratings (a whole task, or one rating per list item): the median, with agreement as
Krippendorff's alpha for interval data over the annotators' ratings."""
from collections.abc import Sequence

import numpy as np

from .agreement import krippendorff_alpha_interval
from .outcome import Annotations, TaskConsensus, result_item
from .ties import seeded_uniform, stable_seed

WHOLE_TASK = None  # the unit key of a rating that is not per item


def aggregate_rating(control: dict, annotations: Annotations, *, seed: int, max_rating: int,
                     per_item: bool) -> TaskConsensus:
    """One consensus item per rated unit (the task, or each list item by its id in `item_index`); agreement is
    rating_alpha clipped to 0..1 like the engine's other agreements (details["alpha"] keeps it as it is).

    An annotator's first rating of a unit counts; one with no rating of a unit gives it no vote."""
    ratings_by_unit = _ratings_by_unit(annotations, per_item=per_item, max_rating=max_rating)
    if not ratings_by_unit:
        return TaskConsensus([], None, None, "median", {"reason": "no ratings"})
    result, medians = [], {}
    for index, (unit, ratings) in enumerate(ratings_by_unit.items()):
        chosen, exact = median_rating(ratings, seed=stable_seed(seed, unit))
        extra = {} if unit is WHOLE_TASK else {"item_index": unit}
        result.append(result_item(control, "rating", {"rating": chosen}, seed=seed, index=index, **extra))
        medians[unit] = (chosen, exact, ratings)
    alpha = rating_alpha(list(ratings_by_unit.values()), max_rating)
    details = {"alpha": alpha, "units": {str(unit): {"ratings": ratings, "median": exact}
                                         for unit, (_, exact, ratings) in medians.items()}}
    raters = {annotator for annotator, items in annotations if any(_rating(item) for item in items)}
    return TaskConsensus(result, None if alpha is None else min(1.0, max(0.0, alpha)),
                         _support(medians.values()), "median", details, len(raters))


def median_rating(ratings: Sequence[int], *, seed: int) -> tuple[int, float]:
    """The median as a rating on the scale, and the exact median. With an even count whose two middle ratings
    differ, one of them is drawn seeded from the task (never always the lower one, which would bias down)."""
    ordered = sorted(ratings)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle], float(ordered[middle])
    low, high = ordered[middle - 1], ordered[middle]
    draw = seeded_uniform(np.array([seed]), 2)[0]
    return (low if draw[0] >= draw[1] else high), (low + high) / 2


def rating_alpha(units: Sequence[Sequence[int]], max_rating: int) -> float | None:
    """Krippendorff's interval alpha over the units' ratings. With two or more pairable units the expected
    disagreement comes from the pooled ratings, as Krippendorff defines it; a task with one rated unit cannot
    estimate it, so it is what ratings drawn uniformly from 1..max_rating would give, (max² - 1) / 6.
    Pooled ratings that never differ while every pair agrees: 1.0 (every annotator said the same)."""
    scale = np.arange(1, max_rating + 1)
    counts = np.zeros((len(units), max_rating))
    for row, ratings in enumerate(units):
        np.add.at(counts[row], np.asarray(ratings, dtype=int) - 1, 1)
    pairable = int((counts.sum(axis=1) >= 2).sum())
    if not pairable:
        return None
    uniform = (max_rating ** 2 - 1) / 6 if pairable == 1 else None
    alpha = krippendorff_alpha_interval(counts, scale, expected_disagreement=uniform)
    if alpha is None and all(len(set(ratings)) <= 1 for ratings in units):
        return 1.0
    return alpha


def _ratings_by_unit(annotations: Annotations, *, per_item: bool, max_rating: int) -> dict:
    """Ratings off the scale (kept from before a config change lowered maxRating) count for nothing."""
    by_unit: dict = {}
    for _, items in annotations:
        seen = set()
        for item in items:
            rating = _rating(item)
            unit = item.get("item_index") if per_item else WHOLE_TASK
            if rating is None or rating > max_rating or unit in seen or (per_item and not isinstance(unit, str)):
                continue
            seen.add(unit)
            by_unit.setdefault(unit, []).append(rating)
    return dict(sorted(by_unit.items(), key=lambda pair: str(pair[0]))) if per_item else by_unit


def _rating(item: dict) -> int | None:
    rating = item.get("value", {}).get("rating") if isinstance(item.get("value"), dict) else None
    return rating if isinstance(rating, int) and not isinstance(rating, bool) and rating >= 1 else None


def _support(medians) -> float:
    """The lowest share of a unit's annotators who gave exactly its consensus rating."""
    return min(ratings.count(chosen) / len(ratings) for chosen, _, ratings in medians)
