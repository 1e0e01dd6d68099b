"""What a per-task aggregation returns, and the Label Studio result items it is made of (with deterministic ids)."""
import hashlib
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Callable, Sequence, TypeVar

Annotations = Sequence[tuple[Any, list[dict]]]  # (annotator_id, this control's result items)
Answer = TypeVar("Answer")


@dataclass
class TaskConsensus:
    result: list[dict]  # Label Studio result items: the merged answer
    agreement: float | None  # 0..1; None with fewer than two annotators
    confidence: float | None  # posterior (DS) or support share of the chosen answer; None when nothing to rate
    method: str  # what actually ran: "majority", "dawid_skene", "box_matching", "span_vote", "exact_match"
    details: dict = field(default_factory=dict)  # votes, ties and how they broke, matches, per-label agreement
    annotator_count: int = 0


def result_item(control: dict, item_type: str, value: dict, *, seed: int, index: int, **extra: Any) -> dict:
    """One result item; its id depends only on the task seed, the control and the item's position, so a re-run
    over the same annotations rewrites identical JSON."""
    digest = hashlib.blake2b(f"{seed}:{control['name']}:{index}".encode(), digest_size=5).hexdigest()
    return {"id": f"c{digest}", "from_name": control["name"], "to_name": control.get("to_name", ""),
            "type": item_type, "value": value, **extra}


def mean_pairwise(answers: Sequence[Answer], score: Callable[[Answer, Answer], float], *,
                  skip_empty_pairs: bool = False) -> float | None:
    """Mean of score(a, b) over every pair of annotators' answers; None below two annotators (or pairs).
    skip_empty_pairs: leave out pairs where both answers are empty, for per-label figures, where two annotators
    who never used a label would otherwise count as agreeing on it."""
    pairs = [score(first, second) for first, second in combinations(answers, 2)
             if not (skip_empty_pairs and not first and not second)]
    return sum(pairs) / len(pairs) if pairs else None


def set_f1(first: set, second: set) -> float:
    """2|A∩B| / (|A|+|B|); two empty answers agree fully (both said "nothing here")."""
    if not first and not second:
        return 1.0
    return 2 * len(first & second) / (len(first) + len(second))
