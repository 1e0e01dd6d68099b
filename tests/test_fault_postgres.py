"""PostgreSQL stopped under the web app and a worker (issue 10, item 10).

A throwaway PostgreSQL cluster (never the machine's shared one) holds the whole stack's database. While it is
down, API clients get JSON 503 with Retry-After and pages an HTML 503; consensus recomputes whose retries ran out
during the outage are repaired by the reconciliation once it is back.
"""
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from labeler import launcher
from tests.fault_helpers import (OwnRedis, ThrowawayPostgres, labeler_env, python, wait_for_worker_ready,
                                 web_server, worker_server)
from tests.waiting import wait_until

pytestmark = [pytest.mark.worker]
TASKS = 8
SETUP = """
import json, django
django.setup()
from rest_framework.authtoken.models import Token
from django.contrib.auth import get_user_model
from projects import services
from projects.models import Role
from tests.conftest import TEXT_CONFIG
User = get_user_model()
manager = User.objects.create_user("manager", password="a-long-password-1")
project = services.create_project(creator=manager, title="Outage", label_config=TEXT_CONFIG)
project.overlap = 2
project.save()
tokens = {"manager": Token.objects.create(user=manager).key}
for name in ("ann", "bob"):
    user = User.objects.create_user(name, password="a-long-password-1")
    services.add_member(project=project, user=user, role=Role.ANNOTATOR)
    tokens[name] = Token.objects.create(user=user).key
print(json.dumps({"project": project.pk, "tokens": tokens}))
"""


def api(base: str, method: str, path: str, token: str, body=None, key: str | None = None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Token {token}")
    if key:
        request.add_header("Idempotency-Key", key)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def annotation(choice: str) -> dict:
    return {"result": [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [choice]}}]}


@pytest.fixture
def stack(tmp_path):
    postgres, redis = ThrowawayPostgres(), OwnRedis(tmp_path / "redis")
    env = labeler_env(tmp_path, postgres.url, redis.url, LABELER_RECONCILE_SECONDS="2", LABELER_CONSENSUS_REQUEUE_SECONDS="3",
                      LABELER_CONSENSUS_RETRIES="1", LABELER_OUTAGE_RETRY_AFTER="7", PYTHONPATH=str(launcher.PROJECT_DIR),
                      DJANGO_SETTINGS_MODULE="labeler.settings")
    servers = []
    try:
        subprocess.run([python(), "manage.py", "migrate", "--noinput", "-v0"], env=env, cwd=launcher.PROJECT_DIR, check=True)
        made = json.loads(subprocess.run([python(), "-c", SETUP], env=env, cwd=launcher.PROJECT_DIR, check=True,
                                         capture_output=True, text=True).stdout.strip().splitlines()[-1])
        worker = worker_server(tmp_path, env)
        web, base = web_server(tmp_path, env)
        servers += [web, worker]
        wait_for_worker_ready(worker)
        wait_until(lambda: api(base, "GET", "/api/projects/", made["tokens"]["manager"])[0] == 200, 60, "the web app did not answer")
        yield postgres, worker, base, made
    finally:
        for server in servers:
            server.stop()
        redis.stop()
        postgres.destroy()


def logged_in_browser(base: str) -> urllib.request.OpenerDirector:
    """A session, as a manager's browser has one, so a page needs the database to know who is asking."""
    cookies = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    form = browser.open(base + "/login/", timeout=20).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"username": "manager", "password": "a-long-password-1", "csrfmiddlewaretoken": csrf})
    browser.open(urllib.request.Request(base + "/login/", data=data.encode(), headers={"Referer": base + "/login/"}), timeout=20)
    return browser


def test_a_database_outage_is_a_503_with_retry_after_and_its_lost_consensus_is_repaired(stack):
    postgres, worker, base, made = stack
    tokens, project = made["tokens"], made["project"]
    manager = tokens["manager"]
    status, _, _ = api(base, "POST", f"/api/projects/{project}/import", manager, [{"text": f"review {n}"} for n in range(TASKS)])
    assert status == 201
    task_ids = [task["id"] for task in api(base, "GET", f"/api/projects/{project}/tasks/", manager)[2]["results"]]
    browser = logged_in_browser(base)
    for task_id in task_ids:
        assert api(base, "POST", f"/api/tasks/{task_id}/annotations/", tokens["ann"], annotation("Positive"))[0] == 201
    for task_id in task_ids[:3]:
        assert api(base, "POST", f"/api/tasks/{task_id}/annotations/", tokens["bob"], annotation("Positive"))[0] == 201

    def consensus_of(task_id: int):
        return api(base, "GET", f"/api/tasks/{task_id}/", manager)[2].get("consensus")

    wait_until(lambda: all(consensus_of(task_id) for task_id in task_ids[:3]), 30, "no consensus before the outage")
    # The worker is paused while three more tasks finish, and resumes once the database is down: their recomputes
    # fail, retry once (LABELER_CONSENSUS_RETRIES=1) and give up, as the 45 s outage's did.
    os.killpg(worker.process.pid, signal.SIGSTOP)
    for task_id in task_ids[3:6]:
        assert api(base, "POST", f"/api/tasks/{task_id}/annotations/", tokens["bob"], annotation("Negative"))[0] == 201
    postgres.stop()
    stopped_at = time.monotonic()
    os.killpg(worker.process.pid, signal.SIGCONT)

    keys = {task_id: str(uuid.uuid4()) for task_id in task_ids[6:]}
    for task_id, key in keys.items():
        status, headers, body = api(base, "POST", f"/api/tasks/{task_id}/annotations/", tokens["bob"], annotation("Neutral"), key)
        assert status == 503 and headers["Retry-After"] == "7", (status, body)
        assert headers["Content-Type"] == "application/json" and "database is unreachable" in json.loads(body)["detail"]
    status, headers, body = api(base, "GET", "/api/projects/", manager)
    assert status == 503 and "detail" in json.loads(body)
    with pytest.raises(urllib.error.HTTPError) as page:
        browser.open(base + "/", timeout=20)
    assert page.value.code == 503 and page.value.headers["Retry-After"] == "7"
    assert page.value.headers["Content-Type"].startswith("text/html") and b"briefly unavailable" in page.value.read()
    wait_until(lambda: worker.tail(200_000).count("OperationalError") >= 3, 30, "the recomputes did not fail meanwhile")
    wait_until(lambda: "compute_task_consensus" in worker.tail(200_000) and "Retry in" in worker.tail(200_000), 30,
               "the recomputes were not retried")
    wait_until(lambda: re.search(r"compute_task_consensus\[[^]]+\] raised unexpected: OperationalError", worker.tail(500_000)),
               30, "the recomputes' retries did not run out during the outage")
    outage = time.monotonic() - stopped_at

    postgres.start()
    back_at = time.monotonic()
    for task_id, key in keys.items():  # the client sends its two annotations again, with the same keys
        assert api(base, "POST", f"/api/tasks/{task_id}/annotations/", tokens["bob"], annotation("Neutral"), key)[0] == 201
    wait_until(lambda: all(consensus_of(task_id) for task_id in task_ids), 60,
               f"finished tasks still had no consensus 60 s after the database came back: {worker.tail()}", interval=0.5)
    recovered_after = time.monotonic() - back_at

    counts = api(base, "GET", f"/api/projects/{project}/", manager)[2]
    assert (counts["annotation_count"], counts["finished_task_count"]) == (2 * TASKS, TASKS)
    assert worker.alive()
    print(f"\nPOSTGRES FAULT: {outage:.1f} s outage; API 503 JSON + Retry-After, pages 503 HTML; 3 recomputes ran out "
          f"of retries during it; every finished task had its consensus {recovered_after:.1f} s after PostgreSQL returned; "
          f"annotations expected {2 * TASKS}, stored {counts['annotation_count']}, duplicated 0")
