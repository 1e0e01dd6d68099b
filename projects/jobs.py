"""Job rows as the domains write them: create one (and announce it, so a worker picks it up), report progress,
honour cancellation, record the outcome. Claiming, heartbeats and stall detection are the background side's
(workers/jobs.py).

Progress and cancellation checks go through the `jobs` database alias when there is one (PostgreSQL): a separate
connection, so pollers see them while the job's own work is still inside one uncommitted transaction.
"""
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

from . import events
from .models import Job

JOB_DB = "jobs" if "jobs" in settings.DATABASES else "default"
UNFINISHED = (Job.Status.QUEUED, Job.Status.RUNNING)
# What a job's body is handed to report how far it got; it raises JobCancelled once the job was cancelled.
Progress = Callable[..., None]
# The error of a job whose message the broker refused: the API answers 503 for it.
NOT_QUEUED = "could not queue the job: the task broker is unreachable"


class JobCancelled(Exception):
    """Raised inside a job when its cancel flag is seen; the job's transaction rolls back."""


def create_job(*, kind: str, project, created_by, params: dict | None = None, total: int = 0) -> Job:
    """A queued job row, announced to no one (start_job is what services call)."""
    return Job.objects.create(kind=kind, project=project, created_by=created_by, params=params or {},
                              progress_total=total, heartbeat_at=timezone.now())


def start_job(*, kind: str, project, created_by, params: dict | None = None, total: int = 0) -> Job:
    """A queued job whose message a worker gets once the caller's transaction commits."""
    job = create_job(kind=kind, project=project, created_by=created_by, params=params, total=total)
    events.job_queued.announce(job_id=job.pk, kind=kind)
    return job


def was_not_queued(job: Job) -> bool:
    """The broker refused the job's message (the job failed before any worker saw it)."""
    return job.status == Job.Status.FAILED and job.error.startswith(NOT_QUEUED)


def report_progress(job_id: int, done: int, total: int | None = None) -> None:
    fields = {"progress_done": done, "heartbeat_at": timezone.now()}
    if total is not None:
        fields["progress_total"] = total
    Job.objects.using(JOB_DB).filter(pk=job_id).update(**fields)


def raise_if_cancelled(job_id: int) -> None:
    if Job.objects.using(JOB_DB).filter(pk=job_id, cancel_requested=True).exists():
        raise JobCancelled(f"job {job_id} was cancelled")


def progress_of(job_id: int) -> Progress:
    """The progress callback a job's body is handed: record `done` (and `total`), then stop if cancelled."""

    def progress(done: int, total: int | None = None) -> None:
        report_progress(job_id, done, total)
        raise_if_cancelled(job_id)

    return progress


def finish_job(job_id: int, *, status: str, result: dict | None = None, error: str = "", using: str = "default") -> None:
    """Record the outcome of an unfinished job (a finished one keeps its first outcome)."""
    fields = {"status": status, "finished_at": timezone.now(), "error": error}
    if result is not None:
        fields["result"] = result
    if status == Job.Status.SUCCEEDED:
        fields["progress_done"] = Job.objects.using(using).values_list("progress_total", flat=True).get(pk=job_id)
    Job.objects.using(using).filter(pk=job_id).exclude(status__in=Job.FINISHED).update(**fields)


def still_claimed(job: Job) -> bool:
    """Lock the job row; True while this delivery (the claim that answered `job`) still owns the job. A later
    claim (the reconciliation resumed the job) or a finished status means another delivery's work counts."""
    return Job.objects.select_for_update().filter(pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts).exists()


def release_job(job_id: int) -> None:
    """Back to queued, for a job that waits on other work (a training) that will send its message again."""
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(status=Job.Status.QUEUED, heartbeat_at=timezone.now())


def request_cancel(job: Job) -> Job:
    """Ask a job to stop. A queued job stops at once; a running one at its next chunk."""
    Job.objects.filter(pk=job.pk).exclude(status__in=Job.FINISHED).update(cancel_requested=True)
    Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(status=Job.Status.CANCELLED, finished_at=timezone.now())
    job.refresh_from_db()
    return job
