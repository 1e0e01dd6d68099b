"""Review: a reviewer settles a doubtful task by accepting an annotation or the consensus, editing the result, or
rejecting the task back to the pool for a fresh set of annotators. Pending tasks are leased to one reviewer at a
time, as the queue leases tasks to annotators. Only this module writes a task's review fields: `send_to_review`
asks for a review, `next_task_to_review` leases, `decide` records the decision."""
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from projects.label_config import validate_result
from projects.models import Annotation, Project, ReviewStatus, Task
from projects.services import ask_for_more_annotations, project_config

# The decisions, named as the API names them; `accept` without an annotation accepts the consensus.
ACCEPT, EDIT, REJECT = "accept", "edit", "reject"
ACTIONS = (ACCEPT, EDIT, REJECT)
# Each failed claim means another reviewer got a task meanwhile, so this bounds nothing in practice.
CLAIM_ATTEMPTS = 50


class ReviewError(Exception):
    """The decision does not fit the task (HTTP 400)."""


class NotPendingReview(Exception):
    """The task does not wait for review (any more): another reviewer decided it first (HTTP 409)."""


def send_to_review(task_ids: list[int]) -> None:
    """Put tasks in the review queue (the consensus found them doubtful, or sampled them), held by nobody yet."""
    Task.objects.filter(pk__in=task_ids).update(review_status=ReviewStatus.PENDING, review_leased_to=None, review_lease_until=None)


def next_task_to_review(project: Project, reviewer) -> Task | None:
    """The pending task the reviewer should settle now, leased to them for the project's `lease_minutes`.

    The task they hold comes back first (a reload resumes it); tasks other reviewers hold are passed over until
    their lease expires, so two reviewers asking at once get two different tasks.
    """
    for _ in range(CLAIM_ATTEMPTS):
        now = timezone.now()
        claimed = _claim(project, reviewer, now=now, until=now + timedelta(minutes=project.lease_minutes))
        if claimed is not None:
            return claimed
        if not _claimable(project, reviewer, now).exists():
            return None
    return None


def _claimable(project: Project, reviewer, now: datetime):
    """Pending tasks nobody holds, or whose lease ran out, or that the reviewer holds: CLAIMABLE_SQL's test."""
    unheld = Q(review_lease_until__isnull=True) | Q(review_lease_until__lte=now) | Q(review_leased_to=reviewer)
    return Task.objects.filter(unheld, project=project, review_status=ReviewStatus.PENDING)


# One statement picks, leases and returns the task: the pick is a subquery, and the outer WHERE repeats the lease
# test, so of two reviewers who picked the same task the one who waited on its row lock updates nothing and tries
# again. RETURNING saves the read that an ORM update() would need after it (review next's query count is pinned).
CLAIM_SQL = """
UPDATE {task} SET review_leased_to_id = %(reviewer)s, review_lease_until = %(until)s
WHERE id = (
    SELECT id FROM {task}
    WHERE project_id = %(project)s AND review_status = %(pending)s AND {claimable}
    ORDER BY CASE WHEN review_leased_to_id = %(reviewer)s THEN 0 ELSE 1 END, id
    LIMIT 1
) AND {claimable}
RETURNING *
"""
CLAIMABLE_SQL = "(review_lease_until IS NULL OR review_lease_until <= %(now)s OR review_leased_to_id = %(reviewer)s)"


def _claim(project: Project, reviewer, *, now: datetime, until: datetime) -> Task | None:
    sql = CLAIM_SQL.strip().format(task=Task._meta.db_table, claimable=CLAIMABLE_SQL)
    params = {
        "reviewer": reviewer.pk, "project": project.pk, "pending": ReviewStatus.PENDING.value,
        "now": connection.ops.adapt_datetimefield_value(now), "until": connection.ops.adapt_datetimefield_value(until),
    }
    return next(iter(Task.objects.raw(sql, params)), None)


@transaction.atomic
def decide(*, task_id: int, reviewer, action: str, annotation_id: int | None = None, result: list | None = None) -> Task:
    """Record the reviewer's decision on a task waiting for review, and free its review lease.

    The task row is locked first and its state checked under the lock, so of two reviewers deciding at once the
    second gets NotPendingReview instead of overwriting the first. Lock order: the task, then (reject) its project.
    """
    task = Task.objects.select_for_update(of=("self",)).select_related("project").get(pk=task_id)
    if task.review_status != ReviewStatus.PENDING:
        raise NotPendingReview(f"Task {task.pk} does not wait for review (its review is {task.review_status or 'not asked for'}).")
    status, final_result = _decision(task, action, annotation_id, result)
    Task.objects.filter(pk=task.pk).update(
        review_status=status, reviewed_result=final_result, reviewed_by=reviewer, reviewed_at=timezone.now(),
        review_leased_to=None, review_lease_until=None,
    )
    if action == REJECT:
        ask_for_more_annotations(task_id=task.pk, count=task.project.overlap)
    task.refresh_from_db()
    return task


def _decision(task: Task, action: str, annotation_id: int | None, result: list | None) -> tuple[str, list | None]:
    """The review status and final result the action gives the task; ReviewError when it does not fit."""
    if action == REJECT:
        return ReviewStatus.REJECTED, None
    if action == EDIT:
        if not isinstance(result, list):
            raise ReviewError("edit needs the corrected result: a list of result items.")
        validate_result(project_config(task.project), task.data, result)
        return ReviewStatus.EDITED, result
    if action != ACCEPT:
        raise ReviewError(f"Unknown action {action!r}; use one of {', '.join(ACTIONS)}.")
    if annotation_id is not None:
        return ReviewStatus.ACCEPTED, _submitted_annotation(task, annotation_id).result
    if task.consensus_result is None:
        raise ReviewError(f"Task {task.pk} has no consensus yet; accept one annotation or edit the result.")
    return ReviewStatus.ACCEPTED, task.consensus_result


def _submitted_annotation(task: Task, annotation_id: int) -> Annotation:
    annotation = Annotation.objects.filter(pk=annotation_id, task=task, was_cancelled=False).first()
    if annotation is None:
        raise ReviewError(f"Annotation {annotation_id} is not a submitted annotation of task {task.pk}.")
    return annotation
