"""Per-task entry points: one control merged by a given merge function (`merge_control`), or a whole task result
split by control and each part merged (`merge_result`).

The engine does not know the control types: the caller hands it the function that merges one control (the
registry's, in quality.merging), which calls this package's aggregate_* functions for its type."""
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .choices import Reliability
from .outcome import Annotations, TaskConsensus
from .ties import stable_seed

Method = Literal["majority", "dawid_skene"]


@dataclass(frozen=True)
class MergeOptions:
    """What a control's merge may use; each type reads the options that concern it.

    method: "dawid_skene" weights choice votes by `reliability` ({annotator_id: one-coin accuracy or confusion
      matrix over the control's values}, from a project fit) and reports the posterior as confidence; without
      reliability it falls back to "majority" (details["fallback"] says so). Boxes and spans ignore it.
    text: the task's text, for span texts (else rebuilt from the annotators' spans)."""

    seed: int
    method: Method = "majority"
    reliability: Reliability | None = None
    class_prior: Sequence[float] | None = None
    iou_threshold: float = 0.5
    min_votes: int | None = None
    box_fusion: Literal["median", "mean"] = "median"
    text: str | None = None


# (the engine's plain control, its annotations, options) -> the merge, or None when the control has no consensus
MergeControl = Callable[[dict, Annotations, MergeOptions], TaskConsensus | None]


def merge_control(control: dict, annotations: Annotations, merge: MergeControl, *, task_key: Any = None,
                  **options: Any) -> TaskConsensus | None:
    """Merge the annotators' answers for one control of one task with `merge`.

    control: {"name", "to_name", "type", "multiple", "values"}.
    annotations: [(annotator_id, this control's result items)], items possibly empty.
    task_key: the task's id; it seeds tie-breaking and the result item ids, so pass the same id a project-level
      majority_vote used as task_ids to break a tie the same way in both.
    options: the fields of MergeOptions other than the seed.
    """
    annotations = sorted(annotations, key=lambda pair: str(pair[0]))
    seed = stable_seed(task_key) if task_key is not None else stable_seed(control["name"], *(a for a, _ in annotations))
    return merge(control, annotations, MergeOptions(seed=seed, **options))


def merge_result(controls: Sequence[dict], annotations_by_author: Sequence[tuple[Any, list[dict]]], merge: MergeControl,
                 *, reliability_by_control: Mapping[str, Reliability] | None = None,
                 class_prior_by_control: Mapping[str, Sequence[float]] | None = None, task_key: Any = None,
                 **options: Any) -> TaskConsensus:
    """Merge whole annotations (full Label Studio results) control by control.

    Each annotation's items are split by `from_name`; an annotator who left a control empty still counts for
    it; a control `merge` has no consensus for is left out. `options` go to merge_control."""
    per_control = {}
    for control in controls:
        own_items = [(author, [item for item in result if item.get("from_name") == control["name"]])
                     for author, result in annotations_by_author]
        outcome = merge_control(
            control, own_items, merge, task_key=task_key,
            reliability=(reliability_by_control or {}).get(control["name"]),
            class_prior=(class_prior_by_control or {}).get(control["name"]), **options)
        if outcome is not None:
            per_control[control["name"]] = outcome
    return combine_controls(per_control, annotator_count=len(annotations_by_author))


def combine_controls(per_control: Mapping[str, TaskConsensus], *, annotator_count: int) -> TaskConsensus:
    """The task's merge from its controls' merges: the concatenated result, agreement = mean over the controls
    that have one (None if none does), confidence = the lowest control confidence (the weakest part decides
    whether the task needs review), method = the controls' method when they share one, else "mixed" (fits
    Task.consensus_method's 32 characters), and details["controls"] = {name: that control's TaskConsensus}."""
    agreements = [outcome.agreement for outcome in per_control.values() if outcome.agreement is not None]
    confidences = [outcome.confidence for outcome in per_control.values() if outcome.confidence is not None]
    methods = sorted({outcome.method for outcome in per_control.values()})
    return TaskConsensus(result=[item for outcome in per_control.values() for item in outcome.result],
                         agreement=sum(agreements) / len(agreements) if agreements else None,
                         confidence=min(confidences) if confidences else None,
                         method=methods[0] if len(methods) == 1 else ("mixed" if methods else "none"),
                         details={"controls": dict(per_control)}, annotator_count=annotator_count)
