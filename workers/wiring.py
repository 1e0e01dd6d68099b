"""What runs after what: the background side's subscriptions to the domains' events (connected in
WorkersConfig.ready()). Each handler queues a Celery task once the change that announced it has committed; a
broker that refuses the message never fails the request that made the change, and what could not be sent is
sent again (a job fails with a reason the API answers 503 for; a consensus stays due in its outbox row)."""
import logging

from django.conf import settings

from ml import events as ml_events
from ml.services import training_not_queued
from projects import events
from projects.jobs import NOT_QUEUED, finish_job
from projects.models import Job

from . import consensus_due, tasks

logger = logging.getLogger(__name__)


def connect() -> None:
    events.annotations_changed.subscribe(consensus_due.record_change, during=True)
    events.annotations_changed.subscribe(queue_recompute)
    events.job_queued.subscribe(queue_job)
    ml_events.training_requested.subscribe(queue_training)
    ml_events.chunks_planned.subscribe(queue_chunks)
    ml_events.annotation_event_due.subscribe(queue_annotation_event)


def queue_job(*, job_id: int, kind: str) -> None:
    """A broker that cannot be reached fails the job with that reason (its caller answers 503) instead of leaving
    it queued forever or running it inline."""
    try:
        tasks.send_job(job_id, kind)
    except Exception as exc:  # kombu raises OperationalError, but transports differ
        logger.exception("could not queue job %s", job_id)
        finish_job(job_id, status=Job.Status.FAILED, error=f"{NOT_QUEUED} ({exc})")


def queue_recompute(*, task_id: int) -> None:
    """At most one pending recompute per task; the outbox row (written in the change's transaction) keeps it due
    when Redis or the broker is down, and the reconciliation sends it then."""
    try:
        if consensus_due.set_pending(task_id):
            tasks.compute_task_consensus.delay(task_id)
    except Exception:  # the annotation is stored; never fail the annotator's request over bookkeeping
        logger.warning("could not queue the consensus recompute of task %s; the reconciliation will", task_id, exc_info=True)
        consensus_due.mark_not_queued([task_id])


def queue_training(*, project_id: int, then_plan_job: int | None) -> None:
    try:
        tasks.prelabel_train.delay(project_id, then_plan_job)
    except Exception as exc:
        logger.exception("could not queue the training of project %s", project_id)
        training_not_queued(project_id, exc)


def queue_chunks(*, job_id: int, chunk_ids: list[int]) -> None:
    """Send the chunks, and the watchdog that sends them again while none finishes."""
    for chunk_id in chunk_ids:
        tasks.prelabel_chunk.delay(chunk_id)
    tasks.watch_prelabel_job.apply_async((job_id, 0), countdown=settings.LABELER_PRELABEL_STALL_SECONDS)


def queue_annotation_event(*, annotation_id: int) -> None:
    try:
        tasks.prelabel_annotation_event.delay(annotation_id)
    except Exception:  # the backend misses one event; the annotation is stored
        logger.exception("could not queue the ML backend event of annotation %s", annotation_id)
