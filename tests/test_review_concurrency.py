"""Reviewers working the review queue at the same moment, each in its own thread and database connection.

On PostgreSQL this exercises the claim's conditional UPDATE and decide()'s row lock between real transactions; on
SQLite the same code runs with writers serialised.
"""
from collections import Counter

import pytest

from projects import services
from projects.models import ReviewStatus, Role, Task
from tests.api_helpers import import_texts
from tests.conftest import client_for
from tests.test_queue_concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)

REVIEWERS = 12


@pytest.fixture
def reviewers(text_project, make_user):
    people = [make_user(f"reviewer{i}") for i in range(REVIEWERS)]
    for person in people:
        services.add_member(project=text_project, user=person, role=Role.REVIEWER)
    return people


def waiting_for_review(project, count: int) -> list[Task]:
    tasks = import_texts(project, *[f"text {i}" for i in range(count)])
    Task.objects.filter(pk__in=[task.pk for task in tasks]).update(review_status=ReviewStatus.PENDING)
    return tasks


def test_reviewers_asking_at_once_are_each_handed_a_different_task(text_project, reviewers):
    tasks = waiting_for_review(text_project, REVIEWERS - 2)

    handed = run_together(REVIEWERS, lambda i: client_for(reviewers[i]).get(f"/api/projects/{text_project.pk}/review/next/"))

    given = Counter(response.json()["id"] for response in handed if response.status_code == 200)
    assert sorted(given) == sorted(task.pk for task in tasks) and set(given.values()) == {1}
    assert sorted(response.status_code for response in handed).count(204) == 2
    holders = dict(Task.objects.filter(project=text_project).values_list("id", "review_leased_to_id"))
    assert holders == {
        response.json()["id"]: reviewers[i].pk for i, response in enumerate(handed) if response.status_code == 200
    }


def test_of_reviewers_deciding_one_task_at_once_one_wins_and_the_others_get_409(text_project, reviewers):
    (task,) = waiting_for_review(text_project, 1)
    actions = ["reject" if i % 2 else "accept" for i in range(REVIEWERS)]
    Task.objects.filter(pk=task.pk).update(consensus_result=[], consensus_at="2026-11-23T10:00Z")

    answers = run_together(REVIEWERS, lambda i: client_for(reviewers[i]).post(
        f"/api/tasks/{task.pk}/review/", {"action": actions[i]}, format="json",
    ))

    codes = [answer.status_code for answer in answers]
    assert sorted(codes) == [200] + [409] * (REVIEWERS - 1)
    winner = codes.index(200)
    task.refresh_from_db()
    assert task.reviewed_by_id == reviewers[winner].pk
    assert task.extra_annotations == (text_project.overlap if actions[winner] == "reject" else 0)  # one rejection at most
