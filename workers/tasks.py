"""Celery tasks: thin, take ids, safe to run twice. Each claims its job (or reads its row) and calls one domain
service; what runs next is announced by that service and queued by workers/wiring.py."""
import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from exports.services import run_export
from ml.engines.base import EngineError
from ml.prelabel import chunk_job_id, plan, run_chunk, stalled_chunks
from ml.services import send_annotation_event, train_then_continue
from projects.imports.service import discard_staged_files, run_import
from projects.jobs import JobCancelled, finish_job, progress_of
from projects.models import Job
from quality.consensus import update_task_consensus
from quality import leaderboard_jobs
from quality.recompute import run_recompute

from . import consensus_due, jobs, reconciliation

logger = logging.getLogger(__name__)
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


def _guarded(task, job_id: int, body) -> None:
    """Run `body()` under the job's heartbeat; retry on database hiccups, and record any other failure on the job
    row. A database that stays down leaves the job running without a heartbeat: the reconciliation resumes it."""
    try:
        with jobs.heartbeat(job_id):
            body()
    except JobCancelled:
        finish_job(job_id, status=Job.Status.CANCELLED)
    except TRANSIENT_ERRORS as exc:
        if task.request.retries < task.max_retries:
            raise task.retry(exc=exc, countdown=2 ** task.request.retries)
        finish_job(job_id, status=Job.Status.FAILED, error=f"database unavailable: {exc}")
    except Exception as exc:
        logger.exception("job %s failed", job_id)
        finish_job(job_id, status=Job.Status.FAILED, error=f"internal error: {exc.__class__.__name__}: {exc}")


def _run_claimed(task, job_id: int, body, *, unclaimed=None) -> None:
    """Claim the job, then hand its body the job and a progress callback. A job that cannot be claimed (finished,
    cancelled, or alive in another worker) is left alone; `unclaimed(job_id)` tidies up after it."""

    def claimed_body() -> None:
        job = jobs.claim_job(job_id)
        if job is None:
            if unclaimed:
                unclaimed(job_id)
            return
        body(job, progress_of(job_id))

    _guarded(task, job_id, claimed_body)


@shared_task(bind=True, acks_late=True, max_retries=5)
def run_import_job(self, job_id: int) -> None:
    _run_claimed(self, job_id, run_import, unclaimed=discard_staged_files)


@shared_task(bind=True, acks_late=True, max_retries=5)
def run_export_job(self, job_id: int) -> None:
    _run_claimed(self, job_id, run_export)


@shared_task(bind=True, acks_late=True, max_retries=5)
def run_consensus_job(self, job_id: int) -> None:
    _run_claimed(self, job_id, run_recompute)


@shared_task(bind=True, acks_late=True, max_retries=5)
def run_leaderboard_job(self, job_id: int) -> None:
    _run_claimed(self, job_id, leaderboard_jobs.run_leaderboard_job)


@shared_task(bind=True, acks_late=True, max_retries=5)
def compute_task_consensus(self, task_id: int) -> None:
    consensus_due.clear_pending(task_id)
    try:
        change = consensus_due.current_change(task_id)
        update_task_consensus(task_id)
        consensus_due.consensus_done(task_id, change)
    except TRANSIENT_ERRORS as exc:
        # Past the last retry the task stays due (its ConsensusDue row): the reconciliation sends it again.
        raise self.retry(exc=exc, countdown=2 ** self.request.retries, max_retries=settings.LABELER_CONSENSUS_RETRIES)


# Pre-labeling. The planner is bookkeeping (queue `default`); chunks and training run models (`prelabel_*`,
# routed to queue `ml` in settings). Each chunk takes a chunk id and is a no-op once that chunk is done.

@shared_task(bind=True, acks_late=True, max_retries=5)
def plan_prelabel_job(self, job_id: int) -> None:
    _run_claimed(self, job_id, lambda job, progress: plan(job))


@shared_task(acks_late=True)
def watch_prelabel_job(job_id: int, last_done: int) -> None:
    """Every LABELER_PRELABEL_STALL_SECONDS while the job runs: send its unfinished chunks again if none finished."""
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
    job_id = chunk_job_id(chunk_id)
    if job_id is not None:
        _guarded(self, job_id, lambda: run_chunk(chunk_id))


@shared_task(bind=True, acks_late=True, max_retries=5)
def prelabel_train(self, project_id: int, then_plan_job: int | None = None) -> None:
    try:
        with jobs.heartbeat(then_plan_job):  # the job waiting on this training is alive, not stalled
            outcome = train_then_continue(project_id, then_plan_job=then_plan_job)
    except TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=2 ** self.request.retries)
    logger.info("project %s: %s", project_id, outcome)


@shared_task(acks_late=True)
def prelabel_annotation_event(annotation_id: int) -> None:
    """Tell the project's ML backend about a new annotation; a backend that is down or refuses it misses the event
    (logged): the annotation itself is stored either way."""
    try:
        send_annotation_event(annotation_id)
    except EngineError as exc:
        logger.warning("annotation %s: ML backend event not delivered: %s", annotation_id, exc)


JOB_MESSAGES = {
    Job.Kind.IMPORT: run_import_job,
    Job.Kind.EXPORT: run_export_job,
    Job.Kind.CONSENSUS: run_consensus_job,
    Job.Kind.LEADERBOARD: run_leaderboard_job,
    Job.Kind.PRELABEL: plan_prelabel_job,  # planning again sends the chunks not done yet
}


def send_job(job_id: int, kind: str) -> None:
    JOB_MESSAGES[kind].delay(job_id)


def send_recomputes(task_ids: list[int]) -> int:
    """One consensus message per task (pending marks set anew first); answers how many were sent and raises when
    the broker is down. The outbox rows of those sent are marked queued."""
    if not task_ids:
        return 0
    consensus_due.set_pending_again(task_ids)
    sent = []
    try:
        for task_id in task_ids:
            compute_task_consensus.delay(task_id)
            sent.append(task_id)
    finally:
        consensus_due.mark_queued(sent)
    return len(sent)


@shared_task(ignore_result=True)
def reconcile() -> dict:
    """Every LABELER_RECONCILE_SECONDS (Celery beat): send again what outages left undone."""
    return reconciliation.reconcile(send_job=send_job, send_recomputes=send_recomputes)
