"""The life of a Job row: create, claim, heartbeat, report progress, honour cancellation, finish.

Progress and heartbeats are written through the `jobs` database alias when there is one (PostgreSQL): a separate
connection, so pollers and the reconciliation see them while the job's own work is still inside one uncommitted
transaction.
"""
import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import Job

JOB_DB = "jobs" if "jobs" in settings.DATABASES else "default"
UNFINISHED = (Job.Status.QUEUED, Job.Status.RUNNING)
# A pre-labeling job's plan is claimed again each time its chunks are sent again; its chunks may just be waiting
# behind another job's on the `ml` queue, so its claims are no sign of a job that kills its worker.
UNLIMITED_ATTEMPTS = (Job.Kind.PRELABEL,)
logger = logging.getLogger(__name__)


class JobCancelled(Exception):
    """Raised inside a job when its cancel flag is seen; the job's transaction rolls back."""


def create_job(*, kind: str, project, created_by, params: dict | None = None, total: int = 0) -> Job:
    return Job.objects.create(kind=kind, project=project, created_by=created_by, params=params or {},
                              progress_total=total, heartbeat_at=timezone.now())


def enqueue(celery_task, job: Job) -> None:
    """Send the job's message once its row is committed. A broker that cannot be reached fails the job with
    that reason (the caller sees it) instead of leaving it queued forever or running it inline."""

    def send() -> None:
        try:
            celery_task.delay(job.pk)
        except Exception as exc:  # kombu raises OperationalError, but transports differ
            logger.exception("could not queue job %s", job.pk)
            finish_job(job.pk, status=Job.Status.FAILED, error=f"could not queue the job: the task broker is unreachable ({exc})")

    transaction.on_commit(send)


def stall_cutoff() -> datetime:
    """Heartbeats older than this mean the job's worker is gone."""
    return timezone.now() - timedelta(seconds=settings.LABELER_JOB_STALL_SECONDS)


def claim_job(job_id: int) -> Job | None:
    """Mark a job running and return it; None when it is finished, cancelled, or running in a worker that is
    alive (a duplicate message). A running job whose heartbeat stopped is claimed again: its worker died."""
    alive_elsewhere = Q(status=Job.Status.RUNNING, heartbeat_at__gte=stall_cutoff())
    attempts_left = Q(attempts__lt=settings.LABELER_JOB_MAX_ATTEMPTS) | Q(kind__in=UNLIMITED_ATTEMPTS)
    claimable = Q(status__in=UNFINISHED, cancel_requested=False) & attempts_left & ~alive_elsewhere
    now = timezone.now()
    claimed = Job.objects.filter(claimable, pk=job_id).update(
        status=Job.Status.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1, error="",
    )
    if not claimed:
        Job.objects.filter(pk=job_id, cancel_requested=True).exclude(status__in=Job.FINISHED).update(
            status=Job.Status.CANCELLED, finished_at=timezone.now()
        )
        fail_if_out_of_attempts(job_id)
        return None
    return Job.objects.get(pk=job_id)


def still_claimed(job: Job) -> bool:
    """Lock the job row; True while this delivery (the claim that answered `job`) still owns the job. A later
    claim (the reconciliation resumed the job) or a finished status means another delivery's work counts."""
    return Job.objects.select_for_update().filter(pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts).exists()


def release_job(job_id: int) -> None:
    """Back to queued, for a job that waits on other work (a training) that will send its message again."""
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(status=Job.Status.QUEUED, heartbeat_at=timezone.now())


def stalled_error(job: Job) -> str:
    return (f"stopped after {job.attempts} attempts: each time its worker stopped answering (no heartbeat for "
            f"{settings.LABELER_JOB_STALL_SECONDS} s) before the job finished"
            + ("; nothing was imported, start the import again" if job.kind == Job.Kind.IMPORT else ""))


def fail_if_out_of_attempts(job_id: int) -> bool:
    """Fail an unfinished job that used up its attempts and whose last worker is gone."""
    job = (Job.objects.filter(pk=job_id, status__in=UNFINISHED, attempts__gte=settings.LABELER_JOB_MAX_ATTEMPTS)
           .exclude(kind__in=UNLIMITED_ATTEMPTS).exclude(status=Job.Status.RUNNING, heartbeat_at__gte=stall_cutoff()).first())
    if job is None:
        return False
    finish_job(job_id, status=Job.Status.FAILED, error=stalled_error(job))
    return True


def beat(job_id: int) -> None:
    Job.objects.using(JOB_DB).filter(pk=job_id, status__in=UNFINISHED).update(heartbeat_at=timezone.now())


@contextlib.contextmanager
def heartbeat(job_id: int | None) -> Iterator[None]:
    """Write the job's heartbeat every LABELER_JOB_HEARTBEAT_SECONDS from a thread while the block runs, so a
    long chunk (a model call, a big COPY) never looks like a dead worker. On SQLite the write waits out the job's
    own write transaction and may miss a beat; that only delays a resume."""
    if job_id is None:
        yield
        return
    stop = threading.Event()

    def run() -> None:
        try:
            while not stop.wait(settings.LABELER_JOB_HEARTBEAT_SECONDS):
                try:
                    beat(job_id)
                except DatabaseError as exc:
                    logger.info("job %s: heartbeat not written (%s)", job_id, exc)
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=run, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def report_progress(job_id: int, done: int, total: int | None = None) -> None:
    fields = {"progress_done": done, "heartbeat_at": timezone.now()}
    if total is not None:
        fields["progress_total"] = total
    Job.objects.using(JOB_DB).filter(pk=job_id).update(**fields)


def raise_if_cancelled(job_id: int) -> None:
    if Job.objects.using(JOB_DB).filter(pk=job_id, cancel_requested=True).exists():
        raise JobCancelled(f"job {job_id} was cancelled")


def finish_job(job_id: int, *, status: str, result: dict | None = None, error: str = "", using: str = "default") -> None:
    """Record the outcome of an unfinished job (a finished one keeps its first outcome)."""
    fields = {"status": status, "finished_at": timezone.now(), "error": error}
    if result is not None:
        fields["result"] = result
    if status == Job.Status.SUCCEEDED:
        fields["progress_done"] = Job.objects.using(using).values_list("progress_total", flat=True).get(pk=job_id)
    Job.objects.using(using).filter(pk=job_id).exclude(status__in=Job.FINISHED).update(**fields)


def request_cancel(job: Job) -> Job:
    """Ask a job to stop. A queued job stops at once; a running one at its next chunk."""
    Job.objects.filter(pk=job.pk).exclude(status__in=Job.FINISHED).update(cancel_requested=True)
    Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(status=Job.Status.CANCELLED, finished_at=timezone.now())
    job.refresh_from_db()
    return job
