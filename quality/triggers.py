"""Ask a worker to recompute a task's consensus after its annotations changed, at most one pending run per task.

The shape is Label Studio's job de-duplication: a burst of saves on one task queues one recompute now, and a save
while that recompute runs queues exactly one follow-up (the worker clears the pending mark before it reads).
"""
import functools
import logging

import redis
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)
PENDING_SECONDS = 300  # a lost message blocks a task's recompute at most this long; a project recompute mends it


def _pending_key(task_id: int) -> str:
    return f"{settings.CELERY_BROKER_TRANSPORT_OPTIONS.get('global_keyprefix', '')}labeler:consensus-pending:{task_id}"


@functools.cache
def _redis() -> redis.Redis:
    """One client (and connection pool) per process, not a new connection per submission."""
    return redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2)


def annotations_changed(task_id: int) -> None:
    """Called inside the transaction that changed the task's annotations."""
    transaction.on_commit(lambda: _queue_recompute(task_id))


def _queue_recompute(task_id: int) -> None:
    from workers.tasks import compute_task_consensus

    try:
        if _redis().set(_pending_key(task_id), 1, nx=True, ex=PENDING_SECONDS):
            compute_task_consensus.delay(task_id)
    except Exception:  # the annotation is stored; never fail the annotator's request over bookkeeping
        logger.exception("could not queue the consensus recompute of task %s", task_id)


def clear_pending(task_id: int) -> None:
    _redis().delete(_pending_key(task_id))
