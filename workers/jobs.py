"""The life of a Job row on the background side: send its message, claim it, keep its heartbeat, notice a worker
that died. (Creating a job, reporting progress and recording the outcome are the core's: projects/jobs.py.)

Heartbeats are written through the `jobs` database alias when there is one (PostgreSQL): a separate connection,
so pollers and the reconciliation see them while the job's own work is still inside one uncommitted transaction.
"""
import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import F, Q
from django.utils import timezone

from projects.jobs import JOB_DB, UNFINISHED, finish_job
from projects.models import Job

# A pre-labeling job's plan is claimed again each time its chunks are sent again; its chunks may just be waiting
# behind another job's on the `ml` queue, so its claims are no sign of a job that kills its worker.
UNLIMITED_ATTEMPTS = (Job.Kind.PRELABEL,)
logger = logging.getLogger(__name__)


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


