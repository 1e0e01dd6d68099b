"""Shared set-up for benchmarks: point Django at a benchmark database, migrate, make a manager, and start and stop
the server processes a benchmark drives."""
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/labeler_bench"


def setup_django(database_url: str | None = None) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["DATABASE_URL"] = database_url or os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labeler.settings")
    os.environ.setdefault("LABELER_VAR_DIR", "/tmp/labeler-bench")
    _create_postgres_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _create_postgres_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def bench_manager():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-manager", defaults={"is_staff": True})
    return user


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


BENCH_TEXT_CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="c" toName="text"><Choice value="A"/><Choice value="B"/></Choices></View>'
)


def big_text_project(manager, title: str, task_count: int, *, overlap: int = 1):
    """A project of `task_count` open text tasks, made once with one INSERT ... SELECT generate_series on
    PostgreSQL and found again by title on later runs."""
    from django.db import connection

    from projects import services
    from projects.models import Project

    project = Project.objects.filter(title=title).first()
    if project is not None:
        return project
    project = services.create_project(creator=manager, title=title, label_config=BENCH_TEXT_CONFIG, overlap=overlap)
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO projects_task (project_id, data, meta, created_at, updated_at, is_gold,
                   annotation_count, cancelled_count, is_finished)
               SELECT %s, jsonb_build_object('text', 'task number ' || n), '{}'::jsonb, now(), now(), false,
                   0, 0, false
               FROM generate_series(1, %s) AS n""",
            [project.pk, task_count],
        )
        cursor.execute("ANALYZE projects_task")
    services.recount_project(project)
    project.refresh_from_db()
    return project


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log_hint: str, timeout: float = 30) -> None:
    """Until the process listens on the loopback port; RuntimeError naming its log if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"the web server exited; see {log_hint}")
            time.sleep(0.1)
    raise RuntimeError(f"the web server did not start in {timeout:g} s")


def stop_process_group(process: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM to the process's session (a server and its workers), SIGKILL after `grace` seconds."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
