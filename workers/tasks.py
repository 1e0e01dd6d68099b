"""Celery tasks: thin, take ids, safe to run twice. The work itself lives in the services they call."""
import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from . import jobs
from .models import Job

logger = logging.getLogger(__name__)
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


def _run_guarded(task, job_id: int, body) -> None:
    """Run a job's body under its heartbeat; retry on database hiccups, and record any other failure on the job
    row. A database that stays down leaves the job running without a heartbeat: the reconciliation resumes it."""
    try:
        with jobs.heartbeat(job_id):
            body(job_id)
    except jobs.JobCancelled:
        jobs.finish_job(job_id, status=Job.Status.CANCELLED)
    except TRANSIENT_ERRORS as exc:
        if task.request.retries < task.max_retries:
            raise task.retry(exc=exc, countdown=2 ** task.request.retries)
        jobs.finish_job(job_id, status=Job.Status.FAILED, error=f"database unavailable: {exc}")
    except Exception as exc:
        logger.exception("job %s failed", job_id)
        jobs.finish_job(job_id, status=Job.Status.FAILED, error=f"internal error: {exc.__class__.__name__}: {exc}")


@shared_task(bind=True, acks_late=True, max_retries=5)
def run_import_job(self, job_id: int) -> None:
    from projects.task_import import run_import

    _run_guarded(self, job_id, run_import)


@shared_task(bind=True, acks_late=True, max_retries=5)
def compute_task_consensus(self, task_id: int) -> None:
    from quality import triggers
    from quality.consensus import update_task_consensus

    triggers.clear_pending(task_id)
    try:
        change = triggers.current_change(task_id)
        update_task_consensus(task_id)
        triggers.consensus_done(task_id, change)
    except TRANSIENT_ERRORS as exc:
        # Past the last retry the task stays due (its ConsensusDue row): the reconciliation sends it again.
        raise self.retry(exc=exc, countdown=2 ** self.request.retries, max_retries=settings.LABELER_CONSENSUS_RETRIES)


@shared_task(bind=True, acks_late=True, max_retries=5)
def run_consensus_job(self, job_id: int) -> None:
    from quality.recompute import run_recompute

    _run_guarded(self, job_id, run_recompute)


# Pre-labeling. The planner is bookkeeping (queue `default`); chunks and training run models (`prelabel_*`,
# routed to queue `ml` in settings). Each chunk takes a chunk id and is a no-op once that chunk is done.

@shared_task(bind=True, acks_late=True, max_retries=5)
def plan_prelabel_job(self, job_id: int) -> None:
    from ml.prelabel import plan_job
    from ml.services import request_training

    def plan(job_id: int) -> None:
        outcome = plan_job(job_id)
        if outcome.needs_training:
            request_training(Job.objects.values_list("project_id", flat=True).get(pk=job_id), then_plan_job=job_id)
        for chunk_id in outcome.chunk_ids:
            prelabel_chunk.delay(chunk_id)
        if outcome.chunk_ids:
            watch_prelabel_job.apply_async((job_id, 0), countdown=settings.LABELER_PRELABEL_STALL_SECONDS)

    _run_guarded(self, job_id, plan)


@shared_task(acks_late=True)
def watch_prelabel_job(job_id: int, last_done: int) -> None:
    """Every LABELER_PRELABEL_STALL_SECONDS while the job runs: send its unfinished chunks again if none finished."""
    from ml.prelabel import stalled_chunks

    again, done = stalled_chunks(job_id, last_done)
    if again is None:
        return
    if again:
        logger.warning("pre-labeling job %s made no progress; sending its %s unfinished chunks again", job_id, len(again))
    for chunk_id in again:
        prelabel_chunk.delay(chunk_id)
    watch_prelabel_job.apply_async((job_id, done), countdown=settings.LABELER_PRELABEL_STALL_SECONDS)


@shared_task(bind=True, acks_late=True, max_retries=5)
def prelabel_chunk(self, chunk_id: int) -> None:
    from ml.engines.base import EngineError
    from ml.models import PrelabelChunk
    from ml.prelabel import run_chunk, stop_job

    job_id = PrelabelChunk.objects.filter(pk=chunk_id).values_list("job_id", flat=True).first()
    if job_id is None:
        return

    def run(job_id: int) -> None:
        try:
            run_chunk(chunk_id)
        except EngineError as exc:  # the model cannot run at all: every other chunk would fail the same way
            stop_job(job_id, status=Job.Status.FAILED, error=str(exc))

    _run_guarded(self, job_id, run)


@shared_task(bind=True, acks_late=True, max_retries=5)
def prelabel_train(self, project_id: int, then_plan_job: int | None = None) -> None:
    from ml.models import ProjectModel
    from ml.services import run_training

    try:
        with jobs.heartbeat(then_plan_job):  # the job waiting on this training is alive, not stalled
            outcome = run_training(project_id, then_plan_job=then_plan_job)
    except TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=2 ** self.request.retries)
    logger.info("project %s: %s", project_id, outcome)
    if then_plan_job is None:
        return
    if ProjectModel.objects.filter(project_id=project_id, active_version__isnull=False).exists():
        plan_prelabel_job.delay(then_plan_job)
    else:
        jobs.finish_job(then_plan_job, status=Job.Status.FAILED, error=f"the model could not be trained: {outcome}")


@shared_task(acks_late=True)
def prelabel_annotation_event(annotation_id: int) -> None:
    """Tell the project's ML backend about a new annotation; a backend that is down or refuses it misses the event
    (logged): the annotation itself is stored either way."""
    from ml.engines.base import EngineError
    from ml.services import send_annotation_event

    try:
        send_annotation_event(annotation_id)
    except EngineError as exc:
        logger.warning("annotation %s: ML backend event not delivered: %s", annotation_id, exc)


@shared_task(bind=True, acks_late=True, max_retries=5)
def run_export_job(self, job_id: int) -> None:
    from exports.services import run_export

    _run_guarded(self, job_id, run_export)


@shared_task(ignore_result=True)
def reconcile() -> dict:
    """Every LABELER_RECONCILE_SECONDS (Celery beat): send again what outages left undone."""
    from .reconciliation import reconcile as run_reconciliation

    return run_reconciliation()
