"""The life of a Job row: create, claim, report progress, honour cancellation, finish.

Progress is written through the `jobs` database alias when there is one (PostgreSQL): a separate connection, so
pollers see it while the job's own work is still inside one uncommitted transaction.
"""
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Job

JOB_DB = "jobs" if "jobs" in settings.DATABASES else "default"
logger = logging.getLogger(__name__)


class JobCancelled(Exception):
    """Raised inside a job when its cancel flag is seen; the job's transaction rolls back."""


def create_job(*, kind: str, project, created_by, params: dict | None = None, total: int = 0) -> Job:
    return Job.objects.create(kind=kind, project=project, created_by=created_by, params=params or {}, progress_total=total)


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


def claim_job(job_id: int) -> Job | None:
    """Mark a job running and return it; None when it is finished or cancelled (a redelivered message)."""
    claimable = Q(status__in=[Job.Status.QUEUED, Job.Status.RUNNING], cancel_requested=False)
    claimed = Job.objects.filter(claimable, pk=job_id).update(status=Job.Status.RUNNING, started_at=timezone.now(), error="")
    if not claimed:
        Job.objects.filter(pk=job_id, cancel_requested=True).exclude(status__in=Job.FINISHED).update(
            status=Job.Status.CANCELLED, finished_at=timezone.now()
        )
        return None
    return Job.objects.get(pk=job_id)


def report_progress(job_id: int, done: int, total: int | None = None) -> None:
    fields = {"progress_done": done}
    if total is not None:
        fields["progress_total"] = total
    Job.objects.using(JOB_DB).filter(pk=job_id).update(**fields)


def raise_if_cancelled(job_id: int) -> None:
    if Job.objects.using(JOB_DB).filter(pk=job_id, cancel_requested=True).exists():
        raise JobCancelled(f"job {job_id} was cancelled")


def finish_job(job_id: int, *, status: str, result: dict | None = None, error: str = "", using: str = "default") -> None:
    fields = {"status": status, "finished_at": timezone.now(), "error": error}
    if result is not None:
        fields["result"] = result
    if status == Job.Status.SUCCEEDED:
        fields["progress_done"] = Job.objects.using(using).values_list("progress_total", flat=True).get(pk=job_id)
    Job.objects.using(using).filter(pk=job_id).update(**fields)


def request_cancel(job: Job) -> Job:
    """Ask a job to stop. A queued job stops at once; a running one at its next chunk."""
    Job.objects.filter(pk=job.pk).exclude(status__in=Job.FINISHED).update(cancel_requested=True)
    Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(status=Job.Status.CANCELLED, finished_at=timezone.now())
    job.refresh_from_db()
    return job
