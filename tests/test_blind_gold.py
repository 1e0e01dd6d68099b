"""Blind mode (who sees whose annotations) and gold tasks mixed into the queue."""
import pytest

from projects import services
from projects.models import Task
from tests.api_helpers import import_tasks, import_texts, sentiment, submit
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_annotations(text_project, annotator, other_annotator):
    text_project.overlap = 2
    text_project.save()
    (task,) = import_texts(text_project, "Great food")
    mine = submit(annotator, task, [sentiment("Positive")]).json()["id"]
    theirs = submit(other_annotator, task, [sentiment("Negative")]).json()["id"]
    return task, mine, theirs


def test_in_a_blind_project_an_annotator_sees_only_their_own_work_through_every_endpoint(text_project, annotator, two_annotations):
    task, mine, theirs = two_annotations
    Task.objects.filter(pk=task.pk).update(consensus_result=[sentiment("Positive")], agreement=0.0, consensus_at="2026-01-01T00:00Z")
    client = client_for(annotator)

    detail = client.get(f"/api/tasks/{task.pk}/").json()
    assert [a["id"] for a in detail["annotations"]] == [mine]
    assert detail["consensus"] is None  # it would reveal the other annotator's label
    assert client.get(f"/api/annotations/{theirs}/").status_code == 404
    assert client.patch(f"/api/annotations/{theirs}/", {"result": []}, format="json").status_code == 404
    assert client.delete(f"/api/annotations/{theirs}/").status_code == 404
    history = client.get(f"/api/projects/{text_project.pk}/history/").json()["results"]
    assert [item["annotation"] for item in history] == [mine]
    assert client.get(f"/api/projects/{text_project.pk}/agreement/").status_code == 403
    assert client.get(f"/api/projects/{text_project.pk}/annotators/").status_code == 403
    assert client.get(f"/api/projects/{text_project.pk}/review/next/").status_code == 403


def test_without_blind_mode_annotators_see_each_others_work_but_cannot_change_it(text_project, annotator, two_annotations):
    task, mine, theirs = two_annotations
    client_for(text_project.created_by).patch(f"/api/projects/{text_project.pk}/", {"blind": False}, format="json")
    client = client_for(annotator)

    detail = client.get(f"/api/tasks/{task.pk}/").json()
    assert sorted(a["id"] for a in detail["annotations"]) == sorted([mine, theirs])
    assert client.get(f"/api/annotations/{theirs}/").status_code == 200
    assert client.patch(f"/api/annotations/{theirs}/", {"result": []}, format="json").status_code == 403


def test_managers_see_every_annotation_and_the_consensus(text_project, manager, two_annotations):
    task, mine, theirs = two_annotations
    Task.objects.filter(pk=task.pk).update(consensus_result=[sentiment("Positive")], agreement=0.0, consensus_at="2026-01-01T00:00Z", consensus_method="majority")

    detail = client_for(manager).get(f"/api/tasks/{task.pk}/").json()

    assert sorted(a["id"] for a in detail["annotations"]) == sorted([mine, theirs])
    assert detail["consensus"]["result"] == [sentiment("Positive")]
    assert detail["consensus"]["agreement"] == 0.0 and detail["consensus"]["method"] == "majority"


def gold_project(text_project, share: float):
    import_tasks(text_project, [
        {"data": {"text": f"gold {i}"}, "annotations": []} for i in range(2)
    ])
    Task.objects.filter(project=text_project).update(is_gold=True, gold_result=[sentiment("Positive")])
    import_texts(text_project, *[f"plain {i}" for i in range(20)])
    client_for(text_project.created_by).patch(f"/api/projects/{text_project.pk}/", {"gold_share": share}, format="json")
    text_project.refresh_from_db()


def handed_out(user, project, count: int) -> list[Task]:
    tasks = []
    for _ in range(count):
        body = client_for(user).get(f"/api/projects/{project.pk}/next/").json()
        task = Task.objects.get(pk=body["id"])
        submit(user, task)
        tasks.append(task)
    return tasks


def test_with_a_gold_share_of_one_every_annotator_gets_every_gold_task_first(text_project, annotator, other_annotator):
    gold_project(text_project, 1.0)

    for person in (annotator, other_annotator):  # gold tasks go to everyone, outside the overlap of 1
        tasks = handed_out(person, text_project, 3)
        assert [task.is_gold for task in tasks] == [True, True, False]


def test_without_a_gold_share_gold_tasks_are_never_handed_out(text_project, annotator):
    gold_project(text_project, 0.0)

    assert not any(task.is_gold for task in handed_out(annotator, text_project, 20))
    assert client_for(annotator).get(f"/api/projects/{text_project.pk}/next/").status_code == 204


def test_the_task_payload_does_not_announce_gold(text_project, annotator):
    gold_project(text_project, 1.0)

    body = client_for(annotator).get(f"/api/projects/{text_project.pk}/next/").json()

    assert Task.objects.get(pk=body["id"]).is_gold
    assert "is_gold" not in body and "gold_result" not in str(body)


def test_asking_for_one_more_annotation_reopens_a_finished_task(text_project, annotator, other_annotator):
    (task,) = import_texts(text_project, "a")
    submit(annotator, task)
    text_project.refresh_from_db()
    assert text_project.finished_task_count == 1

    services.ask_for_more_annotations(task_id=task.pk, count=1)

    task.refresh_from_db()
    text_project.refresh_from_db()
    assert (task.is_finished, task.extra_annotations, text_project.finished_task_count) == (False, 1, 0)
    assert client_for(other_annotator).get(f"/api/projects/{text_project.pk}/next/").json()["id"] == task.pk
    submit(other_annotator, task)
    task.refresh_from_db()
    assert task.is_finished


@pytest.mark.parametrize("field, value, message", [
    ("gold_share", 1.5, "less than or equal to 1"),
    ("agreement_threshold", -0.1, "greater than or equal to 0"),
    ("max_overlap", 0, "greater than or equal to 1"),
    ("aggregation_method", "vibes", "not a valid choice"),
])
def test_bad_quality_settings_are_refused_with_the_reason(text_project, field, value, message):
    response = client_for(text_project.created_by).patch(f"/api/projects/{text_project.pk}/", {field: value}, format="json")

    assert response.status_code == 400
    assert message in str(response.json()[field])


def test_adaptive_overlap_needs_room_above_the_overlap(text_project):
    response = client_for(text_project.created_by).patch(
        f"/api/projects/{text_project.pk}/", {"adaptive_overlap": True, "overlap": 3, "max_overlap": 2}, format="json"
    )

    assert response.status_code == 400 and "max_overlap" in response.json()
