"""Shared fixtures: named users (manager, annotator, outsider, staff), API clients, projects, a worker process."""
import functools
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.test import APIClient

from projects import services
from projects.models import Role
from projects.models import Job
from tests.processes import stop_process

TEXT_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive" hotkey="p"/><Choice value="Negative"/><Choice value="Neutral"/>
  </Choices>
  <Labels name="entities" toName="text"><Label value="PER"/><Label value="LOC"/><Label value="ORG"/></Labels>
</View>"""

IMAGE_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Face"/><Label value="Person"/></RectangleLabels>
</View>"""


TEST_PASSWORD = "a-long-password-1"
# The fake ML backends listen on loopback, which Labeler refuses to call unless told (labeler/outbound.py).
LOOPBACK_BACKENDS = "127.0.0.1"


@functools.cache
def hashed_test_password() -> str:
    """PBKDF2 costs half a second per hash on purpose; the named users share one hash of one password."""
    return make_password(TEST_PASSWORD)


@pytest.fixture
def make_user(db):
    def make(username: str, **extra):
        return get_user_model().objects.create(username=username, password=hashed_test_password(), **extra)

    return make


@pytest.fixture
def manager(make_user):
    return make_user("manager", email="manager@example.com")


@pytest.fixture
def annotator(make_user):
    return make_user("annotator")


@pytest.fixture
def other_annotator(make_user):
    return make_user("other_annotator")


@pytest.fixture
def outsider(make_user):
    return make_user("outsider")


@pytest.fixture
def staff(make_user):
    return make_user("staff", is_staff=True)


@pytest.fixture
def superuser(make_user):
    return make_user("root", is_staff=True, is_superuser=True)


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api():
    return client_for


@pytest.fixture
def text_project(manager, annotator, other_annotator):
    project = services.create_project(creator=manager, title="Reviews", label_config=TEXT_CONFIG)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    services.add_member(project=project, user=other_annotator, role=Role.ANNOTATOR)
    return project


@pytest.fixture
def reviewer(make_user, text_project):
    """A reviewer of text_project."""
    user = make_user("reviewer")
    services.add_member(project=text_project, user=user, role=Role.REVIEWER)
    return user


@pytest.fixture
def image_project(manager, annotator):
    project = services.create_project(creator=manager, title="Faces", label_config=IMAGE_CONFIG)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    return project


ADMIN_APPS = ("projects", "workers")


@pytest.fixture
def staff_manager(manager):
    """The manager, allowed into the admin with every permission on projects and jobs (but not a superuser)."""
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    manager.user_permissions.set(Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))
    return manager


@pytest.fixture
def admin_client(staff_manager) -> Client:
    client = Client()
    client.force_login(staff_manager)
    return client


@pytest.fixture
def other_managers_project(make_user):
    return services.create_project(creator=make_user("other_manager"), title="Streets", label_config=IMAGE_CONFIG)


def worker_database_url() -> str:
    """A URL for the test database pytest-django created, for a worker in another process."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    """A real `celery worker` in its own process, sharing the test database and broker."""

    def __init__(self, extra_env: dict | None = None):
        self.process: subprocess.Popen | None = None
        self.extra_env = extra_env or {}

    def start(self) -> None:
        env = {
            **os.environ, "DATABASE_URL": worker_database_url(), "DB_CONN_MAX_AGE": "0",
            "LABELER_OUTBOUND_ALLOWED_HOSTS": LOOPBACK_BACKENDS, **self.extra_env,
        }
        self.log_path = os.path.join(settings.VAR_DIR, f"worker-{time.monotonic_ns()}.log")
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "labeler", "worker", "--pool=solo", "--queues=default,ml",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
             f"--hostname=test-{os.getpid()}-{time.monotonic_ns()}@%h"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.process.returncode}; see {self.log.name}")
            with open(self.log_path, "rb") as log:
                if b" ready." in log.read():
                    return
            time.sleep(0.1)
        raise RuntimeError(f"celery worker did not answer a ping in 30 s; see {self.log.name}")

    def stop(self) -> None:
        stop_process(self.process)

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM killer would."""
        self.process.kill()
        self.process.wait()


@pytest.fixture
def loopback_backends(settings):
    """Let this test's web side save and call ML backends on 127.0.0.1, as its worker processes may."""
    settings.LABELER_OUTBOUND_ALLOWED_HOSTS = [LOOPBACK_BACKENDS]


def _forget_consensus_pending_marks() -> None:
    """The purge dropped the recompute messages that tests without a worker queued (on_commit callbacks run by
    django_capture_on_commit_callbacks); their pending marks would hold back a later task with a reused id."""
    from workers import consensus_due

    client = consensus_due._redis()
    marks = list(client.scan_iter(match=consensus_due._pending_key(0)[:-1] + "*"))
    if marks:
        client.delete(*marks)


@pytest.fixture(scope="session")
def worker_process(django_db_setup, django_db_blocker):
    from labeler.celery import app

    app.control.purge()
    _forget_consensus_pending_marks()
    worker = WorkerProcess({"LABELER_ML_BACKEND_BACKOFF_MS": "50"})  # the ML backend failure tests need not wait
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def worker(worker_process, transactional_db):
    """A running worker; tests that use it commit their rows so the worker can see them."""
    if worker_process.process.poll() is not None:
        worker_process.start()
    return worker_process


def wait_for_job(job_id: int, timeout: float = 60) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.is_finished:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s: {job.status} {job.progress_done}/{job.progress_total}")
