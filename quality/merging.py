"""The consensus engine applied to real controls: each control is merged by its registered control type.

The engine (quality.engine) is handed `merge_by_type`, so it never needs to know which types exist."""
from typing import Any

from projects.control_types import control_type_for_result, registered_controls
from quality.engine import MergeOptions, TaskConsensus, merge_control, merge_result
from quality.engine.outcome import Annotations


def merge_by_type(control: dict, annotations: Annotations, options: MergeOptions) -> TaskConsensus | None:
    """The control's own type merges it; a type without a consensus (or one no module registers) gives None."""
    known = control_type_for_result(control["type"])
    return known.merge(control, annotations, options) if known is not None else None


def aggregate_task(control: dict, annotations: Annotations, *, task_key: Any = None, **options: Any) -> TaskConsensus:
    """Merge one control of one task (see quality.engine.merge_control); refuse a type with no consensus."""
    outcome = merge_control(control, annotations, merge_by_type, task_key=task_key, **options)
    if outcome is None:
        supported = ", ".join(known.result_type for known in registered_controls().values())
        raise ValueError(f"no consensus for control type {control['type']!r}; control types: {supported}")
    return outcome


def aggregate_task_result(controls: list[dict], annotations_by_author, **options: Any) -> TaskConsensus:
    """Merge whole annotations control by control (see quality.engine.merge_result)."""
    return merge_result(controls, annotations_by_author, merge_by_type, **options)


def agreement_with_consensus(control: dict, items: list[dict], consensus_items: list[dict],
                             **options: Any) -> float | None:
    """How far one annotation agrees with the consensus, on the control's own agreement scale (exact match for
    choices, F1@IoU for boxes, strict span F1 for spans): the AnnotationRow.consensus_score for boxes and spans.
    None when the control's type has no consensus."""
    outcome = merge_control(control, [("annotator", items), ("consensus", consensus_items)], merge_by_type, **options)
    return outcome.agreement if outcome is not None else None
