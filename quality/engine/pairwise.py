"""Per-task consensus for pairwise preferences: left, right and tie are three classes of one single choice."""
from collections.abc import Sequence
from math import sqrt

from .choices import Reliability, aggregate_single_choice
from .outcome import Annotations, TaskConsensus, result_item

# The classes in a fixed order: a confusion matrix or class prior given for a pairwise control follows it.
PAIRWISE_ANSWERS = ("left", "right", "tie")


def aggregate_pairwise(control: dict, annotations: Annotations, *, seed: int, method: str = "majority",
                       reliability: Reliability | None = None,
                       class_prior: Sequence[float] | None = None) -> TaskConsensus:
    """The choices engine's single-choice vote over left/right/tie (its tie-breaking, its agreement: the share of
    annotator pairs who gave the same answer), with the merged item put back in the pairwise shape.

    An annotator with no item, or an answer that is none of the three, gives no vote."""
    as_choices = [(annotator, _as_choice_items(items)) for annotator, items in annotations]
    outcome = aggregate_single_choice({**control, "values": list(PAIRWISE_ANSWERS)}, as_choices, seed=seed,
                                      method=method, reliability=reliability, class_prior=class_prior)
    outcome.result = [result_item(control, "pairwise", {"selected": item["value"]["choices"][0]}, seed=seed, index=0)
                      for item in outcome.result]
    return outcome


def _as_choice_items(items: list[dict]) -> list[dict]:
    selected = [item.get("value", {}).get("selected") for item in items]
    return [{"value": {"choices": [answer]}} for answer in selected if isinstance(answer, str)]


def position_bias(chose_shown_left: int, judgments: int) -> dict:
    """How often annotators chose the response the page showed on the left, of their left-or-right judgments
    (ties left out): `share` 0.5 is no position bias. `ci_low`/`ci_high`: Wilson's 95% interval of the share,
    so a small count's 0.6 is not read as a bias. Shares are None without judgments."""
    if not judgments:
        return {"chose_shown_left": 0, "judgments": 0, "share": None, "ci_low": None, "ci_high": None}
    share = chose_shown_left / judgments
    z = 1.959963984540054
    centre = (share + z * z / (2 * judgments)) / (1 + z * z / judgments)
    half = z * sqrt(share * (1 - share) / judgments + z * z / (4 * judgments * judgments)) / (1 + z * z / judgments)
    return {"chose_shown_left": chose_shown_left, "judgments": judgments, "share": share,
            "ci_low": max(0.0, centre - half), "ci_high": min(1.0, centre + half)}
