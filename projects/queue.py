"""The annotator queue: which task an annotator gets next, held for them by an expiring lease.

A task is handed to at most `overlap` annotators at once, counting those who finished it: a task may be leased
while `annotation_count + reserved_count < overlap + extra_annotations` (adaptive overlap or a review asks for
more). Gold tasks go to every annotator, outside that count, as a `gold_share` of hand-outs. `reserved_count` is a counter of unexpired leases, moved in
the lease's own transaction. On PostgreSQL, `select_for_update(skip_locked=True)` lets concurrent callers pass
over a task another caller is leasing; the conditional counter UPDATE is the guard on every database, so a task
is never over-assigned even where row locks do not exist (SQLite serialises writers instead).
"""
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Greatest
from django.utils import timezone

from .models import Annotation, Project, QueueOrder, Task, TaskLease

MAX_EXCLUDED_TASKS = 20
# A task that filled up while we waited for its lock (or, without row locks, between our SELECT and UPDATE)
# costs one more try; every failed try means another caller got a lease, so this bounds nothing in practice.
PICK_ATTEMPTS = 50


@dataclass(frozen=True)
class LeasedTask:
    task: Task
    expires_at: datetime


def next_task_for(*, project: Project, user, exclude: frozenset[int] = frozenset()) -> LeasedTask | None:
    """The task the annotator should work on now, leased to them; None when none is left for them.

    A task they already hold (and have not excluded as already in hand) comes back first, so a reload resumes
    where they were. `exclude` names tasks the client has in hand, so a prefetch gets a different one.
    """
    expires_at = timezone.now() + timedelta(minutes=project.lease_minutes)
    for _ in range(PICK_ATTEMPTS):
        with transaction.atomic():
            _skip_commit_flush()
            _delete_leases(TaskLease.objects.filter(project=project, expires_at__lte=timezone.now()))
            held = _renew_held_lease(project, user, exclude, expires_at)
            if held is not None:
                return held
            if _gold_turn(project):
                gold = _gold_task_for(project, user, exclude)
                if gold is not None:
                    Task.objects.filter(pk=gold.pk).update(reserved_count=F("reserved_count") + 1)
                    return _grant(project, gold, user, expires_at)
            task = _lock_free_task(project, user, exclude)
            if task is None:
                return None
            if _reserve(task.pk, project.overlap):
                return _grant(project, task, user, expires_at)
    return None


def _skip_commit_flush() -> None:
    """A lease is a soft reservation: if PostgreSQL crashed right after this commit, losing it would only return
    the task to the pool. So its commit does not wait for the WAL flush, which under concurrent writers is most
    of a hand-out's latency."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _gold_turn(project: Project) -> bool:
    """Whether this hand-out is a gold task: a `gold_share` of them are, unannounced."""
    return project.gold_share > 0 and random.random() < project.gold_share


def _gold_task_for(project: Project, user, exclude: frozenset[int]) -> Task | None:
    """A gold task the annotator has not seen. Gold tasks go to every annotator, outside the overlap."""
    return (
        Task.objects.filter(project=project, is_gold=True)
        .exclude(pk__in=exclude)
        .exclude(Exists(Annotation.objects.filter(task=OuterRef("pk"), completed_by=user)))
        .exclude(Exists(TaskLease.objects.filter(task=OuterRef("pk"), user=user)))
        .order_by("id").first()
    )


def _grant(project: Project, task: Task, user, expires_at: datetime) -> LeasedTask:
    TaskLease.objects.create(project=project, task=task, user=user, expires_at=expires_at)
    return LeasedTask(task=task, expires_at=expires_at)


def _lock_free_task(project: Project, user, exclude: frozenset[int]) -> Task | None:
    """Lock a task the annotator may take. Rows locked by other callers are skipped; when every free task is
    locked by a lease in flight, wait for one of them (one row, so waiting callers cannot deadlock) rather
    than answer "nothing left" too soon."""
    free = _free_tasks(project, user, exclude)
    task = free.select_for_update(skip_locked=True, of=("self",)).first()
    if task is not None:
        return task
    busy_id = free.values_list("id", flat=True).first()
    if busy_id is None:
        return None
    return Task.objects.select_for_update().filter(pk=busy_id).first()


def _renew_held_lease(project: Project, user, exclude: frozenset[int], expires_at: datetime) -> LeasedTask | None:
    lease = (
        TaskLease.objects.filter(project=project, user=user, expires_at__gt=timezone.now(), task__is_finished=False)
        .exclude(task_id__in=exclude).select_related("task").order_by("created_at", "id").first()
    )
    if lease is None:
        return None
    TaskLease.objects.filter(pk=lease.pk).update(expires_at=expires_at)
    return LeasedTask(task=lease.task, expires_at=expires_at)


def _free_tasks(project: Project, user, exclude: frozenset[int]):
    done_by_user = Annotation.objects.filter(task=OuterRef("pk"), completed_by=user)  # skips included
    held_by_user = TaskLease.objects.filter(task=OuterRef("pk"), user=user)
    return (
        Task.objects.filter(project=project, is_finished=False, is_gold=False)
        .alias(load=F("annotation_count") + F("reserved_count"))
        .filter(load__lt=F("extra_annotations") + project.overlap)
        .exclude(pk__in=exclude)
        .exclude(Exists(done_by_user))
        .exclude(Exists(held_by_user))
        .order_by(*_queue_order(project))
    )


def _queue_order(project: Project) -> tuple:
    if project.queue_order == QueueOrder.UNCERTAINTY:
        return ("reserved_count", "-uncertainty", "id")
    return ("reserved_count", "id")


def _reserve(task_id: int, overlap: int) -> bool:
    """Count one more holder, unless the task filled up since we read it."""
    return bool(
        Task.objects.filter(pk=task_id, is_finished=False)
        .alias(load=F("annotation_count") + F("reserved_count"))
        .filter(load__lt=F("extra_annotations") + overlap)
        .update(reserved_count=F("reserved_count") + 1)
    )


def release_leases(*, project: Project, user, task_ids) -> int:
    """Give back the annotator's leases on these tasks (they closed the page); answer how many were held."""
    with transaction.atomic():
        released = _delete_leases(TaskLease.objects.filter(project=project, user=user, task_id__in=list(task_ids)))
    return released


def release_lease_on_submit(*, task_id: int, user) -> int:
    """Called inside the submission's transaction: the annotator no longer holds the task."""
    return _delete_leases(TaskLease.objects.filter(task_id=task_id, user=user))


def _delete_leases(leases) -> int:
    """Delete leases under row locks and take each one off its task's reserved_count. Expired leases are
    swept this way by every next/ call; concurrent callers skip each other's locked rows."""
    locked = list(leases.select_for_update(skip_locked=True).values_list("id", "task_id"))
    if not locked:
        return 0
    TaskLease.objects.filter(pk__in=[lease_id for lease_id, _ in locked]).delete()
    per_task: dict[int, int] = {}
    for _, task_id in locked:
        per_task[task_id] = per_task.get(task_id, 0) + 1
    # Almost always one lease per task; group by how many so that is one UPDATE, not one per task.
    by_amount: dict[int, list[int]] = {}
    for task_id, amount in per_task.items():
        by_amount.setdefault(amount, []).append(task_id)
    for amount, task_ids in by_amount.items():
        Task.objects.filter(pk__in=task_ids).update(reserved_count=Greatest(F("reserved_count") - amount, 0))
    return len(locked)

