"""Review: a reviewer settles a doubtful task by accepting an annotation or the consensus, editing the consensus,
or rejecting the task back to the pool for a fresh set of annotators. The decision is recorded on the task."""
from django.db import transaction
from django.utils import timezone

from projects.label_config import validate_result
from projects.models import Annotation, Project, ReviewStatus, Task
from projects.services import ask_for_more_annotations, project_config


class ReviewError(Exception):
    """The review request does not fit the task (HTTP 400)."""


def next_task_to_review(project: Project) -> Task | None:
    return Task.objects.filter(project=project, review_status=ReviewStatus.PENDING).order_by("id").first()


def accept_annotation(*, task: Task, reviewer, annotation_id: int) -> Task:
    annotation = Annotation.objects.filter(pk=annotation_id, task=task, was_cancelled=False).first()
    if annotation is None:
        raise ReviewError(f"Annotation {annotation_id} is not a submitted annotation of task {task.pk}.")
    return _decide(task, reviewer, ReviewStatus.ACCEPTED, annotation.result)


def accept_consensus(*, task: Task, reviewer) -> Task:
    if task.consensus_result is None:
        raise ReviewError(f"Task {task.pk} has no consensus yet; accept one annotation or edit the result.")
    return _decide(task, reviewer, ReviewStatus.ACCEPTED, task.consensus_result)


def edit_result(*, task: Task, reviewer, result: list) -> Task:
    validate_result(project_config(task.project), task.data, result)
    return _decide(task, reviewer, ReviewStatus.EDITED, result)


def reject(*, task: Task, reviewer) -> Task:
    """Send the task back to the queue for `overlap` more annotators; their work gets a new consensus."""
    with transaction.atomic():
        _decide(task, reviewer, ReviewStatus.REJECTED, None)
        ask_for_more_annotations(task_id=task.pk, count=task.project.overlap)
    task.refresh_from_db()
    return task


def _decide(task: Task, reviewer, status: str, result) -> Task:
    Task.objects.filter(pk=task.pk).update(
        review_status=status, reviewed_result=result, reviewed_by=reviewer, reviewed_at=timezone.now()
    )
    task.refresh_from_db()
    return task
