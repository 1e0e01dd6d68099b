"""The periodic repair of what a broker, database or worker outage left undone (Celery beat runs it).

Two sweeps, each a set-based query on a small indexed set:
- consensus recomputes whose message could not be sent (`queued_at` empty) or was sent long ago and never ran
  (the broker lost it, or the retries ran out while PostgreSQL was down) are sent again;
- jobs queued or running without a heartbeat for LABELER_JOB_STALL_SECONDS (their message never arrived, or their
  worker died) get their message again, or fail with a clear error after LABELER_JOB_MAX_ATTEMPTS claims.
Everything sent is idempotent: a recompute rewrites the same answer, a job's claim refuses a live duplicate.
"""
import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from projects.jobs import UNFINISHED, finish_job
from projects.models import Job

from . import jobs
from .models import ConsensusDue

logger = logging.getLogger(__name__)
SendJob = Callable[[int, str], None]


def reconcile(*, send_job: SendJob, send_recomputes: Callable[[list[int]], int]) -> dict:
    """One sweep; the senders are the Celery tasks' (workers/tasks.py), handed in."""
    outcome = {"consensus_requeued": requeue_due_consensus(send_recomputes)}
    outcome.update(resume_stalled_jobs(send_job))
    if any(outcome.values()):
        logger.warning("reconciliation: %s", outcome)
    return outcome


def requeue_due_consensus(send_recomputes: Callable[[list[int]], int]) -> int:
    lost_after = timezone.now() - timedelta(seconds=settings.LABELER_CONSENSUS_REQUEUE_SECONDS)
    due = ConsensusDue.objects.filter(Q(queued_at__isnull=True) | Q(queued_at__lt=lost_after))
    task_ids = list(due.order_by().values_list("task_id", flat=True)[: settings.LABELER_RECONCILE_BATCH])
    return send_recomputes(task_ids)


def stalled_jobs():
    """Unfinished jobs without a recent heartbeat. A running pre-labeling job waits the longer of the two stall
    periods: its chunks may be queued behind another job's, and each look sends its unfinished chunks again."""
    prelabel_running = Q(kind=Job.Kind.PRELABEL, status=Job.Status.RUNNING)
    prelabel_cutoff = timezone.now() - timedelta(
        seconds=max(settings.LABELER_JOB_STALL_SECONDS, settings.LABELER_PRELABEL_STALL_SECONDS))
    return Job.objects.filter(status__in=UNFINISHED).filter(
        Q(heartbeat_at__isnull=True)
        | (~prelabel_running & Q(heartbeat_at__lt=jobs.stall_cutoff()))
        | (prelabel_running & Q(heartbeat_at__lt=prelabel_cutoff))
    )


def resume_stalled_jobs(send_job: SendJob) -> dict:
    resumed = failed = 0
    for job in stalled_jobs().only("id", "kind", "status", "heartbeat_at", "attempts", "cancel_requested")[: settings.LABELER_RECONCILE_BATCH]:
        if job.cancel_requested:
            finish_job(job.pk, status=Job.Status.CANCELLED)
        elif jobs.fail_if_out_of_attempts(job.pk):
            failed += 1
            logger.warning("job %s failed: %s", job.pk, jobs.stalled_error(job))
        elif _resend(job, send_job):
            resumed += 1
    return {"jobs_resumed": resumed, "jobs_failed": failed}


def _resend(job: Job, send_job: SendJob) -> bool:
    """Mark the job queued with a fresh heartbeat (so the next sweep waits a full stall period), unless a worker
    claimed it meanwhile, then send its message again. Marking first means a row another transaction holds (an
    import on SQLite, whose heartbeat cannot be written meanwhile) is never sent twice: the UPDATE waits and fails."""
    marked = Job.objects.filter(pk=job.pk, status=job.status, heartbeat_at=job.heartbeat_at).update(
        status=Job.Status.QUEUED, heartbeat_at=timezone.now()
    )
    if not marked:
        return False
    send_job(job.pk, job.kind)
    logger.warning("job %s (%s, %s after %s attempts) had no heartbeat since %s: its message was sent again",
                   job.pk, job.kind, job.status, job.attempts, job.heartbeat_at)
    return True
