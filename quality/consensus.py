"""Apply the consensus engine to tasks: merge a finished task's annotations, store the answer and its agreement,
and route doubtful tasks to one more annotator (adaptive overlap) or to review."""
import logging

from django.db import transaction
from django.utils import timezone

from projects.label_config import LabelConfig
from projects.models import AggregationMethod, Annotation, Project, ReviewStatus, Task
from projects.services import ask_for_more_annotations, project_config
from workers.consensus import aggregate_task_result

from .models import AnnotatorScore

logger = logging.getLogger(__name__)
# Reliability estimated from fewer tasks than this is noise (../shared/CONSENSUS.md): such annotators vote as equals.
MIN_HISTORY_FOR_WEIGHTS = 20
SETTLED_BY_REVIEW = (ReviewStatus.ACCEPTED, ReviewStatus.EDITED)


def controls_of(config: LabelConfig) -> list[dict]:
    """The label config's controls in the engine's plain form."""
    return [
        {"name": c.name, "to_name": c.to_name, "type": c.result_type, "multiple": c.multiple, "values": list(c.values)}
        for c in config.controls.values()
    ]


def update_task_consensus(task_id: int) -> bool:
    """Recompute one task's consensus from its submitted annotations; answer whether it was stored.

    Only tasks with all their required annotations get one. Safe to run twice: the same annotations give the
    same result, written over the last one.
    """
    task = Task.objects.select_related("project").filter(pk=task_id).first()
    if task is None or not task.is_finished:
        return False
    project = task.project
    annotations = list(
        Annotation.objects.filter(task=task, was_cancelled=False).order_by("id").values_list("completed_by_id", "result")
    )
    if not annotations:
        return False
    weights = annotator_weights(project, [author for author, _ in annotations])
    merged = aggregate_task_result(
        controls_of(project_config(project)), annotations,
        method="weighted" if weights else "majority", reliability=weights,
        iou_threshold=project.iou_threshold, box_fusion=project.box_fusion,
    )
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task_id)
        if locked.annotation_count != len(annotations):
            return False  # an annotation arrived or left meanwhile; its own trigger recomputes
        store_consensus(locked, merged.result, merged.agreement, merged.confidence, method_name(project, weights))
        route_task(locked, project, merged.agreement)
    return True


def annotator_weights(project: Project, authors: list) -> dict | None:
    """Reliability weights from the last project recompute, when the method calls for them and every author has
    enough history; None means an unweighted majority vote."""
    if project.aggregation_method == AggregationMethod.MAJORITY:
        return None
    scores = dict(
        AnnotatorScore.objects.filter(project=project, user_id__in=[a for a in authors if a is not None], tasks_done__gte=MIN_HISTORY_FOR_WEIGHTS)
        .exclude(reliability=None).values_list("user_id", "reliability")
    )
    if project.aggregation_method == AggregationMethod.AUTO and len(scores) < len(set(authors)):
        return None
    return scores or None


def method_name(project: Project, weights: dict | None) -> str:
    return "dawid_skene_weighted" if weights else "majority"


def store_consensus(task: Task, result: list, agreement: float | None, confidence: float | None, method: str) -> None:
    task.consensus_result = result
    task.agreement = agreement
    task.consensus_confidence = confidence
    task.consensus_method = method
    task.consensus_at = timezone.now()
    task.save(update_fields=["consensus_result", "agreement", "consensus_confidence", "consensus_method", "consensus_at", "updated_at"])


def route_task(task: Task, project: Project, agreement: float | None) -> None:
    """Send a doubtful task to one more annotator while adaptive overlap allows, else to review; sample agreed
    tasks into review at the project's rate. A reviewer's accepted or edited answer stays settled."""
    if task.review_status in SETTLED_BY_REVIEW:
        return
    doubtful = agreement is not None and agreement < project.agreement_threshold
    if doubtful and project.adaptive_overlap and project.overlap + task.extra_annotations < project.max_overlap:
        ask_for_more_annotations(task_id=task.pk, count=1)
        return
    if doubtful or sampled_for_review(task.pk, project.review_sample_rate):
        Task.objects.filter(pk=task.pk).update(review_status=ReviewStatus.PENDING)


def sampled_for_review(task_id: int, rate: float) -> bool:
    """A fixed pseudo-random share of tasks (Knuth's multiplicative hash of the id), the same on every recompute."""
    return rate > 0 and ((task_id * 2654435761) % 2**32) / 2**32 < rate
