"""Many annotators working the queue at the same moment, each in its own thread and database connection.

On PostgreSQL this exercises `select_for_update(skip_locked=True)` and the conditional counter update; on SQLite
the same code runs with writers serialised.
"""
import threading
import uuid
from collections import Counter

import pytest
from django.db import connection

from projects import services
from projects.models import Annotation, Role, Task, TaskLease
from tests.api_helpers import import_texts, sentiment
from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)

ANNOTATORS = 32


def run_together(count: int, work) -> list:
    """Run work(index) in `count` threads released at once; answer their results in index order."""
    start = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = work(index)
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


@pytest.fixture
def crowd(text_project, make_user):
    people = [make_user(f"crowd{i}") for i in range(ANNOTATORS)]
    for person in people:
        services.add_member(project=text_project, user=person, role=Role.ANNOTATOR)
    return people


def test_32_annotators_asking_at_once_get_at_most_overlap_leases_per_task(text_project, crowd):
    import_texts(text_project, *[f"text {i}" for i in range(10)])
    text_project.overlap = 3
    text_project.save()

    handed = run_together(ANNOTATORS, lambda i: client_for(crowd[i]).get(f"/api/projects/{text_project.pk}/next/"))

    given = Counter(response.json()["id"] for response in handed if response.status_code == 200)
    assert sum(given.values()) == 30  # 10 tasks x overlap 3: everyone else got 204
    assert set(given.values()) == {3}
    assert sorted(response.status_code for response in handed).count(204) == ANNOTATORS - 30
    reserved = dict(Task.objects.filter(project=text_project).values_list("id", "reserved_count"))
    assert reserved == dict(given)
    assert TaskLease.objects.count() == 30


def test_32_annotators_working_the_queue_lose_and_duplicate_nothing(text_project, crowd):
    tasks = import_texts(text_project, *[f"text {i}" for i in range(40)])
    text_project.overlap = 3
    text_project.save()

    def work_until_done(index: int) -> list[int]:
        client = client_for(crowd[index])
        submitted = []
        while True:
            response = client.get(f"/api/projects/{text_project.pk}/next/")
            if response.status_code == 204:
                return submitted
            assert response.status_code == 200, response.content
            task_id = response.json()["id"]
            body = {"result": [sentiment("Positive")], "lead_time": 1.5}
            key = str(uuid.uuid4())
            first = client.post(f"/api/tasks/{task_id}/annotations/", body, format="json", headers={"Idempotency-Key": key})
            retry = client.post(f"/api/tasks/{task_id}/annotations/", body, format="json", headers={"Idempotency-Key": key})
            assert (first.status_code, retry.status_code) == (201, 200), (first.content, retry.content)
            assert retry.json()["id"] == first.json()["id"]
            submitted.append(first.json()["id"])

    submitted = [annotation for per_person in run_together(ANNOTATORS, work_until_done) for annotation in per_person]

    stored = list(Annotation.objects.filter(project=text_project).values_list("id", "task_id", "completed_by_id"))
    assert sorted(submitted) == sorted(row[0] for row in stored)  # every 201 is stored, nothing else
    per_task = Counter(task_id for _, task_id, _ in stored)
    assert per_task == {task.pk: 3 for task in tasks}  # exactly overlap each: no over-assignment
    assert len({(task_id, author) for _, task_id, author in stored}) == len(stored)
    text_project.refresh_from_db()
    assert (text_project.finished_task_count, text_project.annotation_count) == (40, 120)
    assert not TaskLease.objects.exists()
    assert set(Task.objects.values_list("reserved_count", flat=True)) == {0}
