"""`make run` as a newcomer sees it: the launcher's demo data, web app, worker and embedded Redis, then Ctrl-C.

The launcher runs as a real subprocess on SQLite in a temporary directory with no REDIS_URL, so it starts and
stops everything itself; every process it started carries that directory in its environment, which is how the
test finds leftovers.
"""
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from labeler.redis_server import free_port
from projects.models import Project, ProjectMember, Task

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Settings the test suite exports that must not leak into the launcher: it should pick its own defaults.
NOT_INHERITED = {
    "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_KEY_PREFIX", "MEDIA_ROOT", "SECRET_KEY",
    "DJANGO_SUPERUSER_PASSWORD", "LABELER_BIND_HOST",
}


def launcher_env(var_dir: Path, port: int) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
    env.update(LABELER_VAR_DIR=str(var_dir), PORT=str(port), LABELER_IMPORT_SYNC_MAX_TASKS="5", PYTHONUNBUFFERED="1")
    return env


def processes_of_run(var_dir: Path) -> list[int]:
    """Pids of live processes started with this run's LABELER_VAR_DIR (the launcher and everything below it)."""
    marker = f"LABELER_VAR_DIR={var_dir}\0".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # redis-server writes its process title over its environment: its working directory gives it away.
            ours = marker in (entry / "environ").read_bytes() or _cwd(entry).startswith(f"{var_dir}/")
            if ours and "Z" not in _state(entry):
                pids.append(int(entry.name))
        except OSError:
            continue  # exited meanwhile, or not ours to read
    return pids


def _cwd(proc_dir: Path) -> str:
    try:
        return os.readlink(proc_dir / "cwd")
    except OSError:
        return ""


def _state(proc_dir: Path) -> str:
    return (proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[0]


def call_api(base: str, method: str, path: str, token: str | None = None, body=None) -> tuple[int, dict]:
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def wait_for(condition, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout} s; launcher output:\n{log.read_text()[-4000:]}")


@pytest.fixture
def launcher(tmp_path):
    """The launcher running `all`; killed with everything it started if the test leaves it running."""
    var_dir, log = tmp_path / "var", tmp_path / "launcher.log"
    port = free_port()
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "labeler.launcher", "all"], cwd=PROJECT_DIR, env=launcher_env(var_dir, port),
            stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    yield process, var_dir, log, f"http://127.0.0.1:{port}"
    if process.poll() is None:
        process.kill()
        process.wait()
    for pid in processes_of_run(var_dir):
        os.kill(pid, signal.SIGKILL)


def login_as_printed_manager(base: str, log: Path) -> str:
    printed = re.search(r"^\s+manager / (\S+)", log.read_text(), re.MULTILINE)
    assert printed, f"no manager credentials printed:\n{log.read_text()[-4000:]}"
    status, answer = call_api(base, "POST", "/api/auth/token/", body={"username": "manager", "password": printed.group(1)})
    assert status == 200, answer
    return answer["token"]


@pytest.mark.worker
def test_launcher_runs_the_demo_and_stops_cleanly_on_ctrl_c(launcher):
    process, var_dir, log, base = launcher
    wait_for(lambda: "Labeler is running at" in log.read_text() or process.poll() is not None, 30, "no banner", log)
    assert process.poll() is None, f"launcher exited with {process.returncode}:\n{log.read_text()[-4000:]}"
    assert "SECRET_KEY is not set" in log.read_text()
    token = login_as_printed_manager(base, log)

    status, page = call_api(base, "GET", "/api/projects/", token)
    assert status == 200
    counts = {project["title"]: project["task_count"] for project in page["results"]}
    assert counts["Demo: product reviews"] >= 200 and counts["Demo: faces and people"] >= 15, counts

    project_id = next(project["id"] for project in page["results"] if project["title"] == "Demo: product reviews")
    tasks = [{"text": f"Imported review number {number}: the kettle works."} for number in range(10)]
    status, job = call_api(base, "POST", f"/api/projects/{project_id}/import", token, tasks)
    assert status == 202, job  # more than LABELER_IMPORT_SYNC_MAX_TASKS, so the worker process must do it

    def finished_job():
        job_status, current = call_api(base, "GET", f"/api/jobs/{job['id']}/", token)
        return current if job_status == 200 and current["status"] not in ("queued", "running") else None

    done = wait_for(finished_job, 20, "the import job did not finish", log)
    assert done["status"] == "succeeded" and done["result"]["task_count"] == 10, done
    assert call_api(base, "GET", f"/api/projects/{project_id}/", token)[1]["task_count"] == counts["Demo: product reviews"] + 10

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0, log.read_text()[-4000:]
    wait_for(lambda: not processes_of_run(var_dir), 5, "processes of the run are still alive", log)
    assert "Labeler stopped." in log.read_text()


@pytest.mark.django_db
def test_seed_demo_twice_creates_the_demo_once_and_changes_nothing(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", stdout=io.StringIO())
    snapshot = _demo_snapshot()

    call_command("seed_demo", stdout=io.StringIO())

    assert _demo_snapshot() == snapshot
    reviews, images = Project.objects.get(title="Demo: product reviews"), Project.objects.get(title="Demo: faces and people")
    assert reviews.task_count == Task.objects.filter(project=reviews).count() >= 200
    assert images.task_count == len(list((tmp_path / "media" / "uploads" / str(images.pk)).iterdir())) >= 15
    manager = get_user_model().objects.get(username="manager")
    assert manager.is_staff and not manager.is_superuser and manager.has_perm("projects.change_project")
    assert set(ProjectMember.objects.filter(project=images).values_list("user__username", "role")) == {
        ("manager", "manager"), ("annotator1", "annotator"), ("annotator2", "annotator"),
    }


def _demo_snapshot() -> dict:
    return {
        "users": list(get_user_model().objects.order_by("id").values_list("username", "password", "is_staff", "is_superuser")),
        "projects": list(Project.objects.order_by("id").values_list("id", "title", "task_count", "updated_at")),
        "tasks": Task.objects.count(),
        "members": ProjectMember.objects.count(),
    }
