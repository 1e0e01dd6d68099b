"""The bookkeeping behind a task's consensus recompute: at most one pending run per task, and an outbox row.

The shape is Label Studio's job de-duplication: a burst of saves on one task queues one recompute now, and a save
while that recompute runs queues exactly one follow-up (the worker clears the pending mark before it reads).
Beside the message, the change is written to the database in the caller's transaction (a ConsensusDue row, an
outbox): a message the broker never got, or lost, is sent again by the reconciliation, so no finished task stays
without its consensus when Redis or PostgreSQL was down.
"""
import functools
import logging
import uuid

import redis
from django.conf import settings
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from .models import ConsensusDue

logger = logging.getLogger(__name__)
PENDING_SECONDS = 300  # a lost message blocks a task's fast path at most this long; the reconciliation mends it


def _pending_key(task_id: int) -> str:
    return f"{settings.CELERY_BROKER_TRANSPORT_OPTIONS.get('global_keyprefix', '')}labeler:consensus-pending:{task_id}"


@functools.cache
def _redis() -> redis.Redis:
    """One client (and connection pool) per process, not a new connection per submission; short timeouts and no
    retry, so a request never waits long on a Redis that is down."""
    return redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=1,
                                retry=Retry(NoBackoff(), 0))


def record_change(*, task_id: int) -> None:
    """Inside the transaction that changed the task's annotations: its consensus is due from this change on."""
    now = timezone.now()
    ConsensusDue.objects.bulk_create(
        [ConsensusDue(task_id=task_id, change=uuid.uuid4(), changed_at=now, queued_at=now)],
        update_conflicts=True, unique_fields=["task"], update_fields=["change", "changed_at", "queued_at"],
    )


def set_pending(task_id: int) -> bool:
    """True when no recompute of the task is pending yet (the caller then sends one). Raises when Redis is down:
    with Redis down the SET fails at once (or after the 1 s connect timeout when Redis's host does not answer),
    so the request never reaches the slower publish."""
    return bool(_redis().set(_pending_key(task_id), 1, nx=True, ex=PENDING_SECONDS))


def set_pending_again(task_ids: list[int]) -> None:
    """The reconciliation's resend: the pending marks are set anew (the lost message's mark may still be there)."""
    pipeline = _redis().pipeline(transaction=False)
    for task_id in task_ids:
        pipeline.set(_pending_key(task_id), 1, ex=PENDING_SECONDS)
    pipeline.execute()


def mark_not_queued(task_ids: list[int]) -> None:
    try:
        ConsensusDue.objects.filter(task_id__in=task_ids).update(queued_at=None)
    except Exception:  # the database is down too: the row's queued_at ages and the reconciliation sends it
        logger.warning("could not mark the consensus of tasks %s as not queued", task_ids, exc_info=True)


def mark_queued(task_ids: list[int]) -> None:
    ConsensusDue.objects.filter(task_id__in=task_ids).update(queued_at=timezone.now())


def clear_pending(task_id: int) -> None:
    """The worker's first step. A Redis that cannot be reached leaves the mark to expire; the outbox row keeps
    the recompute due either way."""
    try:
        _redis().delete(_pending_key(task_id))
    except redis.RedisError:
        logger.warning("could not clear the consensus-pending mark of task %s", task_id, exc_info=True)


def current_change(task_id: int):
    """The change the worker is about to compute from (None when nothing is due)."""
    return ConsensusDue.objects.filter(task_id=task_id).values_list("change", flat=True).first()


def consensus_done(task_id: int, change) -> None:
    """The recompute read every change up to `change`: the task is no longer due, unless one arrived since."""
    if change is not None:
        ConsensusDue.objects.filter(task_id=task_id, change=change).delete()
