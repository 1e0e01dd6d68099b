"""`make run` when its worker dies: the launcher restarts it (with backoff) and keeps the web app up; Ctrl-C still
stops everything (issue 10, item 9)."""
import os
import signal
import urllib.request
from pathlib import Path

import pytest

from tests.test_launcher import call_api, launcher, login_as_printed_manager, processes_of_run, wait_for  # noqa: F401 (fixture)

pytestmark = [pytest.mark.worker]


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=30).close()
        return True
    except OSError:
        return False


def worker_master(launcher_pid: int, var_dir: Path) -> int | None:
    """The pid of the Celery worker the launcher started (its direct child running `celery ... worker`)."""
    for pid in processes_of_run(var_dir):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if parent == launcher_pid and b"celery" in command and b"worker" in command:
            return pid
    return None


def test_a_killed_worker_is_restarted_and_the_web_app_keeps_answering(launcher):  # noqa: F811 (the fixture)
    process, var_dir, log, base = launcher
    wait_for(lambda: "Labeler is running at" in log.read_text() or process.poll() is not None, 60, "no banner", log)
    wait_for(lambda: answers(base + "/login/"), 60, "the web app did not answer", log)  # its first request loads Django
    token = login_as_printed_manager(base, log)
    first = wait_for(lambda: worker_master(process.pid, var_dir), 10, "no worker process", log)

    os.kill(first, signal.SIGKILL)

    assert call_api(base, "GET", "/api/projects/", token)[0] == 200  # the web app did not go down with it
    second = wait_for(lambda: (pid := worker_master(process.pid, var_dir)) and pid != first and pid, 30,
                      "the worker was not restarted", log)
    assert second != first and process.poll() is None
    assert "worker exited with status -9" in log.read_text()
    projects = call_api(base, "GET", "/api/projects/", token)[1]["results"]
    project_id = next(project["id"] for project in projects if project["title"] == "Demo: product reviews")
    status, job = call_api(base, "POST", f"/api/projects/{project_id}/import", token,
                           [{"text": f"after the restart {n}"} for n in range(10)])
    assert status == 202, job

    def finished_job():
        current = call_api(base, "GET", f"/api/jobs/{job['id']}/", token)[1]
        return current if current["status"] not in ("queued", "running") else None

    assert wait_for(finished_job, 60, "the restarted worker did not run the import", log)["status"] == "succeeded"

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0, log.read_text()[-4000:]
    wait_for(lambda: not processes_of_run(var_dir), 5, "processes of the run are still alive", log)
