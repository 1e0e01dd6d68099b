"""A worker killed (kill -9) in the middle of an import (issue 10, item 11): the job's heartbeat stops, the
reconciliation of another worker resumes it within the stall bound, and the tasks are imported exactly once."""
import os
import time

import pytest

from projects.models import Task
from tests.conftest import client_for, wait_for_job, worker_database_url
from projects.models import Job
from tests.fault_helpers import labeler_env, wait_for_worker_ready, worker_server
from tests.waiting import wait_until

pytestmark = [pytest.mark.worker]
TASKS = 30_000
STALL_SECONDS = 3


def test_an_import_whose_worker_is_killed_resumes_and_imports_each_task_once(worker, tmp_path, manager, text_project):
    worker.stop()  # this test runs its own workers; the next test starts the shared one again
    env = labeler_env(tmp_path, worker_database_url(), os.environ["REDIS_URL"], LABELER_JOB_STALL_SECONDS=str(STALL_SECONDS),
                      LABELER_JOB_HEARTBEAT_SECONDS="1", LABELER_RECONCILE_SECONDS="1")
    victim = worker_server(tmp_path, env, with_beat=False, name="victim")
    successor = None
    try:
        wait_for_worker_ready(victim)
        response = client_for(manager).post(f"/api/projects/{text_project.pk}/import",
                                            [{"text": f"review number {n}"} for n in range(TASKS)], format="json")
        assert response.status_code == 202, response.json()
        job_id = response.json()["id"]
        wait_until(lambda: Job.objects.get(pk=job_id).status == Job.Status.RUNNING, 60, "the import did not start")
        victim.kill()
        killed = Job.objects.get(pk=job_id)
        assert killed.status == Job.Status.RUNNING and not Task.objects.filter(project=text_project).exists(), \
            "the import finished before its worker was killed: import more tasks"

        killed_at = time.monotonic()
        successor = worker_server(tmp_path, env, name="successor")
        job = wait_for_job(job_id, timeout=120)
        resumed_after = time.monotonic() - killed_at
    finally:
        victim.stop()
        if successor is not None:
            successor.stop()

    assert job.status == Job.Status.SUCCEEDED, (job.status, job.error, successor.tail())
    assert job.attempts == 2 and job.result["task_count"] == TASKS
    assert Task.objects.filter(project=text_project).count() == TASKS
    assert Task.objects.filter(project=text_project).values("data").distinct().count() == TASKS
    shown = client_for(manager).get(f"/api/jobs/{job_id}/").json()
    assert (shown["status"], shown["attempts"], shown["progress"]) == ("succeeded", 2, {"done": TASKS, "total": TASKS})
    print(f"\nJOB FAULT: import worker killed mid-import; resumed and finished {resumed_after:.1f} s later "
          f"(stall bound {STALL_SECONDS} s); tasks expected {TASKS}, stored {TASKS}, duplicated 0")
