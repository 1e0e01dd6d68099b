"""Per-task consensus for rankings of list items: the Borda count, with agreement as Kendall's W; with buckets,
each item goes to the bucket most annotators put it in and is ordered there by its Borda score."""
from collections import Counter
from collections.abc import Sequence
from itertools import combinations

import numpy as np

from .outcome import Annotations, TaskConsensus, result_item
from .ties import TIE_RULE_NAMES, break_ties, seeded_uniform, stable_seed


def borda_scores(rankings: Sequence[Sequence[str]]) -> dict[str, int]:
    """Points per item: in a ranking of n items the first gets n - 1, the last 0."""
    scores: Counter = Counter()
    for ranking in rankings:
        for position, item in enumerate(ranking):
            scores[item] += len(ranking) - 1 - position
    return dict(scores)


def borda_order(rankings: Sequence[Sequence[str]], *, seed: int) -> tuple[list[str], list[list[str]]]:
    """The items by Borda score, best first, and the groups that tied on score (each broken by a draw seeded
    from the task and the item, never by the order the items came in)."""
    scores = borda_scores(rankings)
    items = sorted(scores)
    draw = seeded_uniform(np.array([seed]), len(items))[0]
    order = sorted(range(len(items)), key=lambda index: (-scores[items[index]], -draw[index]))
    tied = [group for score in sorted(set(scores.values()), reverse=True)
            if len(group := [items[index] for index in order if scores[items[index]] == score]) > 1]
    return [items[index] for index in order], tied


def kendalls_w(rankings: Sequence[Sequence[str]]) -> float | None:
    """Kendall's coefficient of concordance of m complete rankings of the same n items (no ties within a
    ranking): 12 S / (m² (n³ - n)), S the squared deviations of the items' rank sums from their mean. 1 is
    full agreement, 0 none. None below two rankings or two items."""
    m, n = len(rankings), len(rankings[0]) if rankings else 0
    if m < 2 or n < 2:
        return None
    rank_sums = Counter()
    for ranking in rankings:
        for position, item in enumerate(ranking):
            rank_sums[item] += position + 1
    mean = m * (n + 1) / 2
    spread = sum((total - mean) ** 2 for total in rank_sums.values())
    return float(12 * spread / (m * m * (n ** 3 - n)))


def pairwise_support(rankings: Sequence[Sequence[str]], order: Sequence[str]) -> float | None:
    """The share of the annotators' pairwise preferences (item a above item b) the consensus order keeps."""
    where = {item: position for position, item in enumerate(order)}
    kept = total = 0
    for ranking in rankings:
        for above, below in combinations(ranking, 2):
            kept += where[above] < where[below]
            total += 1
    return kept / total if total else None


def aggregate_ranking(control: dict, annotations: Annotations, *, seed: int) -> TaskConsensus:
    """Merge the annotators' rankings of one task. `control["values"]` are the bucket names (none: one plain
    ranking under the control's own name). Buckets are read in config order, the first the best, so a bucketed
    answer is also a full ranking (bucket by bucket, each in its own order) for the Borda count and Kendall's W.

    Only rankings of the same items as the most common set are merged (a ranking from before the task's list
    changed is left out, and counted in details["left_out"])."""
    buckets = list(control.get("values") or [])
    answers = [(annotator, answer) for annotator, items in annotations
               if (answer := _answer(items, control["name"], buckets)) is not None]
    if not answers:
        return TaskConsensus([], None, None, "borda", {"reason": "no rankings"})
    kept, left_out = _same_items(answers)
    rankings = [_flatten(answer, buckets, control["name"]) for _, answer in kept]
    order, tied = borda_order(rankings, seed=seed)
    details = {"borda": borda_scores(rankings), "ties": tied, "left_out": left_out}
    if buckets:
        placed, bucket_ties = _bucket_votes([answer for _, answer in kept], buckets, seed=seed)
        value = {bucket: [item for item in order if placed[item] == bucket] for bucket in buckets}
        details["bucket_ties"] = bucket_ties
    else:
        value = {control["name"]: order}
    merged = result_item(control, "ranker", {"ranker": value}, seed=seed, index=0)
    final = _flatten(value, buckets, control["name"])
    return TaskConsensus([merged], kendalls_w(rankings), pairwise_support(rankings, final), "borda", details,
                         len(kept))


def _answer(items: list[dict], name: str, buckets: list[str]) -> dict | None:
    """The annotator's first ranker item as {key: [ids]}, or None when they gave none."""
    for item in items:
        ranker = item.get("value", {}).get("ranker")
        if isinstance(ranker, dict) and ranker:
            keys = buckets or [name]
            return {key: list(ranker.get(key) or []) for key in keys}
    return None


def _flatten(answer: dict, buckets: list[str], name: str) -> list[str]:
    return [item for key in (buckets or [name]) for item in answer.get(key, [])]


def _same_items(answers: list[tuple]) -> tuple[list[tuple], int]:
    sets = Counter(frozenset(item for ids in answer.values() for item in ids) for _, answer in answers)
    common = max(sets, key=lambda items: (sets[items], sorted(items)))
    kept = [(annotator, answer) for annotator, answer in answers
            if frozenset(item for ids in answer.values() for item in ids) == common]
    return kept, len(answers) - len(kept)


def _bucket_votes(answers: list[dict], buckets: list[str], *, seed: int) -> tuple[dict[str, str], dict]:
    """Each item's bucket by plurality; a tie is broken by the seeded draw, recorded in the second value."""
    items = sorted({item for answer in answers for ids in answer.values() for item in ids})
    votes = np.zeros((len(items), len(buckets)))
    for answer in answers:
        for column, bucket in enumerate(buckets):
            for item in answer.get(bucket, []):
                votes[items.index(item), column] += 1
    winner, rule = break_ties(votes, np.array([stable_seed(seed, item) for item in items]))
    placed = {item: buckets[column] for item, column in zip(items, winner)}
    ties = {item: TIE_RULE_NAMES[int(how)] for item, how in zip(items, rule) if how}
    return placed, ties
