"""Apply the consensus engine to one task: merge a finished task's annotations, store the answer and its agreement,
and route a doubtful task to one more annotator (adaptive overlap) or to review."""
import dataclasses
import json
from collections.abc import Iterable

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from projects.label_config import LabelConfig
from projects.models import AggregationMethod, Annotation, JudgeCheck, Project, ReviewStatus, Task
from projects.services import ask_for_more_annotations, project_config
from .engine import TaskConsensus
from .judging import check_against_judge
from .merging import aggregate_task_result
from .models import AnnotatorScore
from .review import send_to_review

# Estimates from fewer tasks than this are noise (../shared/CONSENSUS.md): flagged, and not used to weigh votes.
MIN_HISTORY_FOR_WEIGHTS = 20
SETTLED_BY_REVIEW = (ReviewStatus.ACCEPTED, ReviewStatus.EDITED)


def controls_of(config: LabelConfig) -> list[dict]:
    """The label config's controls in the engine's plain form."""
    return [
        {"name": c.name, "to_name": c.to_name, "type": c.result_type, "multiple": c.multiple, "values": list(c.values),
         "options": dict(c.options)}
        for c in config.controls.values()
    ]


def task_text(config: LabelConfig, data: dict) -> str | None:
    """The task's text, for span texts in the merged result (the first <Text> object's field)."""
    field = next((o.data_field for o in config.objects.values() if o.kind == "text"), None)
    return str(data.get(field, "")) if field else None


def update_task_consensus(task_id: int) -> bool:
    """Recompute one task's consensus from its submitted annotations; answer whether it was stored.

    Only tasks with all their required annotations get one. Safe to run twice: the same annotations give the
    same result, written over the last one.
    """
    task = Task.objects.select_related("project").filter(pk=task_id).first()
    if task is None or not task.is_finished:
        return False
    annotations = list(
        Annotation.objects.filter(task=task, was_cancelled=False).order_by("id").values_list("completed_by_id", "result")
    )
    if not annotations:
        return False
    project = task.project
    config = project_config(project)
    merged = merge(project, controls_of(config), annotations, task_key=task.pk, text=task_text(config, task.data),
                   reliability_by_control=stored_reliability(project, [author for author, _ in annotations]))
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task_id)
        if locked.annotation_count != len(annotations):
            return False  # an annotation arrived or left meanwhile; its own trigger recomputes
        store_consensus(locked, merged)
        if locked.judge_check == JudgeCheck.PENDING and check_against_judge(locked, merged.result):
            return True  # the check disagreed with the judge: the task is open again for the full overlap
        route_task(locked, project, merged.agreement)
    return True


def merge(project: Project, controls: list[dict], annotations, *, task_key, text, reliability_by_control) -> TaskConsensus:
    """The task's merged result; its method is the project-level one (majority vote or Dawid-Skene), where the
    engine would name each control's own way of merging (span vote, box fusion) and call the mix "mixed"."""
    method = "dawid_skene" if reliability_by_control else "majority"
    summary = project.quality_summary or {}
    merged = aggregate_task_result(
        controls, annotations, method=method, reliability_by_control=reliability_by_control,
        class_prior_by_control=summary.get("class_prior"), task_key=task_key, text=text,
        iou_threshold=project.iou_threshold, box_fusion=project.box_fusion,
    )
    return dataclasses.replace(merged, method=method)


def stored_reliability(project: Project, authors: Iterable) -> dict | None:
    """Per choices control, the authors' confusion matrices from the last Dawid-Skene fit, when the project uses
    Dawid-Skene and every author of the task has one; None means a plain majority vote."""
    if project.aggregation_method == AggregationMethod.MAJORITY or (project.quality_summary or {}).get("method") != "dawid_skene":
        return None
    authors = set(authors)
    matrices = dict(AnnotatorScore.objects.filter(project=project, user_id__in=authors).values_list("user_id", "confusion"))
    by_control: dict[str, dict] = {}
    for control in {name for confusion in matrices.values() for name in confusion}:
        if all(control in matrices.get(author, {}) for author in authors):
            by_control[control] = {author: np.asarray(matrices[author][control]) for author in authors}
    return by_control or None


def store_consensus(task: Task, merged: TaskConsensus) -> None:
    task.consensus_result = merged.result
    task.agreement = merged.agreement
    task.consensus_confidence = merged.confidence
    task.consensus_method = merged.method
    task.consensus_controls = control_figures(merged)
    task.consensus_at = timezone.now()
    task.save(update_fields=CONSENSUS_FIELDS)


CONSENSUS_FIELDS = ["consensus_result", "agreement", "consensus_confidence", "consensus_method", "consensus_controls",
                    "consensus_at", "updated_at"]


def control_figures(merged: TaskConsensus) -> dict:
    """{control: {"agreement", "confidence", "method"}} from a task's merge (its details["controls"])."""
    return {name: {"agreement": outcome.agreement, "confidence": outcome.confidence, "method": outcome.method}
            for name, outcome in (merged.details.get("controls") or {}).items()}


def route_task(task: Task, project: Project, agreement: float | None) -> None:
    """Send a doubtful task to one more annotator while adaptive overlap allows, else to review; sample agreed
    tasks into review at the project's rate. A reviewer's accepted or edited answer stays settled."""
    decision = routing_decision(task, project, agreement)
    if decision == "more":
        ask_for_more_annotations(task_id=task.pk, count=1)
    elif decision == "review":
        send_to_review([task.pk])


def routing_decision(task: Task, project: Project, agreement: float | None) -> str | None:
    """"more" (one more annotator), "review", or None (the consensus stands). A gold task's answer is known
    already, and its disagreement is what scores the annotators, so it is never routed."""
    if task.is_gold or task.review_status in SETTLED_BY_REVIEW or task.review_status == ReviewStatus.PENDING:
        return None
    doubtful = agreement is not None and agreement < project.agreement_threshold
    if doubtful and project.adaptive_overlap and project.overlap + task.extra_annotations < project.max_overlap:
        return "more"
    if doubtful or sampled_for_review(task.pk, project.review_sample_rate):
        return "review"
    return None


def sampled_for_review(task_id: int, rate: float) -> bool:
    """A fixed pseudo-random share of tasks (Knuth's multiplicative hash of the id), the same on every recompute."""
    return rate > 0 and ((task_id * 2654435761) % 2**32) / 2**32 < rate


def update_consensus_columns(rows: list[tuple[int, list, float | None, float | None, str, dict]]) -> None:
    """Write (task id, result, agreement, confidence, method, per-control figures) for many tasks in one statement. On PostgreSQL the
    rows travel as one JSON document (jsonb_to_recordset): Django's bulk_update builds a CASE per row and costs
    20x more, and array parameters are slow to quote."""
    if not rows:
        return
    now = timezone.now()
    table = Task._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            document = json.dumps([{"id": i, "result": r, "agreement": a, "confidence": c, "method": m, "controls": p}
                                   for i, r, a, c, m, p in rows])
            cursor.execute(
                f"""UPDATE {table} AS t SET consensus_result = v.result, agreement = v.agreement,
                        consensus_confidence = v.confidence, consensus_method = v.method, consensus_controls = v.controls,
                        consensus_at = %s, updated_at = %s
                    FROM jsonb_to_recordset(%s::jsonb)
                        AS v(id bigint, result jsonb, agreement float8, confidence float8, method text, controls jsonb)
                    WHERE t.id = v.id""",
                [now, now, document],
            )
        else:
            now = connection.ops.adapt_datetimefield_value(now)
            cursor.executemany(
                f"""UPDATE {table} SET consensus_result = %s, agreement = %s, consensus_confidence = %s,
                        consensus_method = %s, consensus_controls = %s, consensus_at = %s, updated_at = %s WHERE id = %s""",
                [(json.dumps(r), a, c, m, json.dumps(p), now, now, i) for i, r, a, c, m, p in rows],
            )
