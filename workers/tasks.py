"""Celery tasks: thin, take ids, safe to run twice. The work itself lives in the services they call."""
import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import jobs
from .models import Job

logger = logging.getLogger(__name__)
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


def _run_guarded(task, job_id: int, body) -> None:
    """Run a job's body; retry on database hiccups, and record any other failure on the job row."""
    try:
        body(job_id)
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
def run_export_job(self, job_id: int) -> None:
    from exports.services import run_export

    _run_guarded(self, job_id, run_export)
