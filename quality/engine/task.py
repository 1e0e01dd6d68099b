"""Per-task entry points: one control (`aggregate_task`) or a whole task result split by control
(`aggregate_task_result`)."""
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .boxes import aggregate_boxes
from .choices import Reliability, aggregate_multiple_choice, aggregate_single_choice, aggregate_text
from .outcome import Annotations, TaskConsensus
from .spans import aggregate_spans
from .ties import stable_seed

Method = Literal["majority", "dawid_skene"]
SUPPORTED_TYPES = ("choices", "labels", "rectanglelabels", "textarea")


def aggregate_task(control: dict, annotations: Annotations, *, method: Method = "majority",
                   reliability: Reliability | None = None, class_prior: Sequence[float] | None = None,
                   iou_threshold: float = 0.5, min_votes: int | None = None,
                   box_fusion: Literal["median", "mean"] = "median", task_key: Any = None,
                   text: str | None = None) -> TaskConsensus:
    """Merge the annotators' answers for one control of one task.

    control: {"name", "to_name", "type": choices|labels|rectanglelabels|textarea, "multiple", "values"}.
    annotations: [(annotator_id, this control's result items)], items possibly empty.
    method: "dawid_skene" weights choice votes by `reliability` ({annotator_id: one-coin accuracy or confusion
      matrix over control["values"]}, from a project fit) and reports the posterior as confidence; without
      reliability it falls back to "majority" (details["fallback"] says so). Boxes and spans ignore it.
    task_key: the task's id; it seeds tie-breaking and the result item ids, so pass the same id a project-level
      majority_vote used as task_ids to break a tie the same way in both.
    text: the task's text, for span texts (else rebuilt from the annotators' spans).
    """
    annotations = sorted(annotations, key=lambda pair: str(pair[0]))
    seed = stable_seed(task_key) if task_key is not None else stable_seed(control["name"], *(a for a, _ in annotations))
    kind = control["type"]
    if kind == "choices" and control.get("multiple"):
        return aggregate_multiple_choice(control, annotations, seed=seed, method=method, reliability=reliability)
    if kind == "choices":
        return aggregate_single_choice(control, annotations, seed=seed, method=method, reliability=reliability,
                                       class_prior=class_prior)
    if kind == "rectanglelabels":
        return aggregate_boxes(control, annotations, seed=seed, iou_threshold=iou_threshold, min_votes=min_votes,
                               fusion=box_fusion)
    if kind == "labels":
        return aggregate_spans(control, annotations, seed=seed, min_votes=min_votes, text=text)
    if kind == "textarea":
        return aggregate_text(control, annotations, seed=seed)
    raise ValueError(f"no consensus for control type {kind!r}; supported: {', '.join(SUPPORTED_TYPES)}")


def aggregate_task_result(controls: Sequence[dict], annotations_by_author: Sequence[tuple[Any, list[dict]]], *,
                          method: Method = "majority", reliability_by_control: Mapping[str, Reliability] | None = None,
                          class_prior_by_control: Mapping[str, Sequence[float]] | None = None,
                          task_key: Any = None, text: str | None = None, **options: Any) -> TaskConsensus:
    """Merge whole annotations (full Label Studio results) control by control.

    Each annotation's items are split by `from_name`; an annotator who left a control empty still counts for
    it. Returns the concatenated result, agreement = mean over the controls that have one (None if none does),
    confidence = the lowest control confidence (the weakest part decides whether the task needs review), method =
    the controls' method when they share one, else "mixed" (fits Task.consensus_method's 32 characters), and
    details["controls"] = {name: that control's TaskConsensus}. `options` go to aggregate_task.
    """
    per_control = {}
    for control in controls:
        if control["type"] not in SUPPORTED_TYPES:
            continue
        own_items = [(author, [item for item in result if item.get("from_name") == control["name"]])
                     for author, result in annotations_by_author]
        per_control[control["name"]] = aggregate_task(
            control, own_items, method=method, task_key=task_key, text=text,
            reliability=(reliability_by_control or {}).get(control["name"]),
            class_prior=(class_prior_by_control or {}).get(control["name"]), **options)
    agreements = [outcome.agreement for outcome in per_control.values() if outcome.agreement is not None]
    confidences = [outcome.confidence for outcome in per_control.values() if outcome.confidence is not None]
    methods = sorted({outcome.method for outcome in per_control.values()})
    return TaskConsensus(result=[item for outcome in per_control.values() for item in outcome.result],
                         agreement=sum(agreements) / len(agreements) if agreements else None,
                         confidence=min(confidences) if confidences else None,
                         method=methods[0] if len(methods) == 1 else ("mixed" if methods else "none"),
                         details={"controls": per_control}, annotator_count=len(annotations_by_author))


def agreement_with_consensus(control: dict, items: list[dict], consensus_items: list[dict],
                             **options: Any) -> float | None:
    """How far one annotation agrees with the consensus, on the control's own agreement scale (exact match for
    choices, F1@IoU for boxes, strict span F1 for spans): the AnnotationRow.consensus_score for boxes and spans."""
    return aggregate_task(control, [("annotator", items), ("consensus", consensus_items)], **options).agreement
