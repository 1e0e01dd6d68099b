"""Shared set-up for benchmarks: point Django at a benchmark database, migrate, and make a manager."""
import os
import resource
import sys
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
