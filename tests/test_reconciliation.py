"""The reconciliation's and the job claim's edge cases, and the outage answers, without killing anything (the
fault tests in test_fault_*.py do that with real processes)."""
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import RequestFactory
from django.utils import timezone

from labeler.outage import DatabaseOutageMiddleware
from workers import consensus_due
from tests.api_helpers import import_texts, sentiment, submit
from tests.conftest import client_for
from projects import jobs as job_rows
from workers import jobs, reconciliation, tasks
from projects.models import Job
from workers.models import ConsensusDue


@pytest.fixture
def sent(monkeypatch):
    """The messages the reconciliation sends, by task name (the broker itself is tested by the fault tests)."""
    messages = []
    for task in (tasks.run_import_job, tasks.run_export_job, tasks.run_consensus_job, tasks.plan_prelabel_job,
                 tasks.compute_task_consensus):
        monkeypatch.setattr(task, "delay", lambda *args, name=task.name: messages.append((name.rsplit(".", 1)[-1], *args)))
    return messages


def stale(settings) -> timezone.datetime:
    return timezone.now() - timedelta(seconds=settings.LABELER_JOB_STALL_SECONDS + 1)


@pytest.fixture
def job(text_project, manager):
    return job_rows.create_job(kind=Job.Kind.IMPORT, project=text_project, created_by=manager)


@pytest.mark.django_db
def test_a_running_job_without_heartbeat_is_sent_again_once_per_stall_period(job, settings, sent):
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, attempts=1, heartbeat_at=stale(settings))

    assert tasks.reconcile()["jobs_resumed"] == 1
    assert tasks.reconcile()["jobs_resumed"] == 0  # its fresh mark waits a full stall period

    assert sent == [("run_import_job", job.pk)]
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.heartbeat_at > stale(settings)


@pytest.mark.django_db
def test_a_queued_job_whose_message_never_arrived_is_sent_again(job, settings, sent):
    Job.objects.filter(pk=job.pk).update(heartbeat_at=stale(settings))

    tasks.reconcile()

    assert sent == [("run_import_job", job.pk)]


@pytest.mark.django_db
def test_a_job_that_stalled_on_its_last_attempt_fails_with_a_clear_error(job, settings, sent, manager):
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, attempts=settings.LABELER_JOB_MAX_ATTEMPTS,
                                         heartbeat_at=stale(settings))

    assert tasks.reconcile()["jobs_failed"] == 1

    shown = client_for(manager).get(f"/api/jobs/{job.pk}/").json()
    assert shown["status"] == "failed" and shown["attempts"] == settings.LABELER_JOB_MAX_ATTEMPTS
    assert "stopped answering" in shown["error"] and "nothing was imported" in shown["error"]
    assert sent == []


@pytest.mark.django_db
def test_a_live_job_is_not_claimed_by_a_duplicate_message_but_a_dead_ones_is(job, settings):
    first = jobs.claim_job(job.pk)
    assert first.attempts == 1 and jobs.claim_job(job.pk) is None  # its worker is alive: a duplicate is a no-op

    Job.objects.filter(pk=job.pk).update(heartbeat_at=stale(settings))
    second = jobs.claim_job(job.pk)

    assert second.attempts == 2
    assert not job_rows.still_claimed(first) and job_rows.still_claimed(second)  # the first delivery may not commit


@pytest.mark.django_db
def test_a_finished_job_keeps_its_first_outcome(job):
    job_rows.finish_job(job.pk, status=Job.Status.SUCCEEDED, result={"task_count": 3})
    job_rows.finish_job(job.pk, status=Job.Status.FAILED, error="database unavailable")

    job.refresh_from_db()
    assert (job.status, job.error) == (Job.Status.SUCCEEDED, "")


@pytest.mark.django_db(transaction=True)
def test_a_recompute_that_could_not_be_queued_is_sent_by_the_next_sweep(text_project, annotator, sent, monkeypatch):
    (task,) = import_texts(text_project, "Great food")
    monkeypatch.setattr(consensus_due, "_redis", lambda: (_ for _ in ()).throw(ConnectionError("Redis is down")))

    assert submit(annotator, task, [sentiment("Positive")]).status_code == 201  # the annotator never notices

    due = ConsensusDue.objects.get(task=task)
    assert due.queued_at is None and sent == []
    monkeypatch.undo()
    monkeypatch.setattr(tasks.compute_task_consensus, "delay", lambda task_id: sent.append(("compute_task_consensus", task_id)))
    try:
        assert reconciliation.requeue_due_consensus(tasks.send_recomputes) == 1
        assert sent == [("compute_task_consensus", task.pk)]
        assert reconciliation.requeue_due_consensus(tasks.send_recomputes) == 0  # sent just now: not again before the requeue period
    finally:
        # No worker takes the message, so nothing clears its pending mark; left in Redis it would hold back the
        # recompute of a later test's task with the same id (SQLite reuses ids after a flush).
        consensus_due.clear_pending(task.pk)


@pytest.mark.django_db
def test_a_recompute_clears_the_due_mark_only_if_no_change_arrived_meanwhile(text_project):
    (task,) = import_texts(text_project, "Great food")
    consensus_due.record_change(task_id=task.pk)
    read = consensus_due.current_change(task.pk)
    consensus_due.record_change(task_id=task.pk)  # a save while the worker computed from `read`

    consensus_due.consensus_done(task.pk, read)
    assert ConsensusDue.objects.filter(task=task).exists()

    consensus_due.consensus_done(task.pk, consensus_due.current_change(task.pk))
    assert not ConsensusDue.objects.filter(task=task).exists()


@pytest.mark.parametrize("path, content_type", [("/api/projects/", "application/json"), ("/", "text/html; charset=utf-8")])
def test_a_lost_database_connection_is_a_503_with_retry_after(path, content_type, settings):
    settings.LABELER_OUTAGE_RETRY_AFTER = 9
    request = RequestFactory().get(path)

    response = DatabaseOutageMiddleware(lambda request: None).process_exception(request, OperationalError("connection refused"))

    assert (response.status_code, response["Retry-After"], response["Content-Type"]) == (503, "9", content_type)


def test_other_errors_are_left_to_the_usual_handling():
    request = RequestFactory().get("/api/projects/")
    assert DatabaseOutageMiddleware(lambda request: None).process_exception(request, ValueError("a bug")) is None


@pytest.mark.django_db
def test_a_prelabel_job_waiting_for_its_chunks_is_resumed_later_and_never_failed_for_attempts(text_project, manager, settings, sent):
    job = job_rows.create_job(kind=Job.Kind.PRELABEL, project=text_project, created_by=manager)
    settings.LABELER_PRELABEL_STALL_SECONDS = settings.LABELER_JOB_STALL_SECONDS * 2
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, attempts=settings.LABELER_JOB_MAX_ATTEMPTS,
                                         heartbeat_at=stale(settings))
    assert tasks.reconcile() == {"consensus_requeued": 0, "jobs_resumed": 0, "jobs_failed": 0}

    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=settings.LABELER_PRELABEL_STALL_SECONDS + 1))
    assert tasks.reconcile()["jobs_resumed"] == 1
    assert sent == [("plan_prelabel_job", job.pk)] and jobs.claim_job(job.pk) is not None
