"""The annotator queue through the API: next task, leases, skips, release, history and progress."""
from datetime import timedelta

import pytest
from django.utils import timezone

from projects import services
from projects.models import Prediction, QueueOrder, Role, Task, TaskLease
from tests.api_helpers import import_tasks, import_texts, sentiment, submit
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def next_task(user, project, **params):
    return client_for(user).get(f"/api/projects/{project.pk}/next/", params)


def next_id(user, project, **params) -> int | None:
    response = next_task(user, project, **params)
    assert response.status_code in (200, 204), response.content
    return response.json()["id"] if response.status_code == 200 else None


def reserved(task: Task) -> int:
    task.refresh_from_db()
    return task.reserved_count


def test_next_hands_out_the_first_task_with_its_data_and_predictions(text_project, annotator):
    import_tasks(text_project, [
        {"data": {"text": "Great food"}, "predictions": [{"model_version": "v1", "score": 0.8, "result": [sentiment("Positive")]}]},
        {"data": {"text": "Cold soup"}},
    ])

    response = next_task(annotator, text_project)

    assert response.status_code == 200
    body = response.json()
    first = Task.objects.filter(project=text_project).order_by("id").first()
    assert body["id"] == first.pk and body["data"] == {"text": "Great food"}
    assert [p["model_version"] for p in body["predictions"]] == ["v1"]
    assert body["predictions"][0]["result"] == [sentiment("Positive")]
    lease = TaskLease.objects.get(task=first, user=annotator)
    assert abs((lease.expires_at - timezone.now()) - timedelta(minutes=15)) < timedelta(seconds=30)
    assert reserved(first) == 1


def test_asking_again_resumes_the_task_held_and_exclude_prefetches_another(text_project, annotator):
    first, second, _ = import_texts(text_project, "a", "b", "c")

    assert next_id(annotator, text_project) == first.pk
    assert next_id(annotator, text_project) == first.pk  # a reload resumes, no second lease
    assert next_id(annotator, text_project, exclude=str(first.pk)) == second.pk
    assert TaskLease.objects.filter(user=annotator).count() == 2


def test_submitting_releases_the_lease_and_the_next_call_moves_on(text_project, annotator):
    first, second = import_texts(text_project, "a", "b")
    next_id(annotator, text_project)

    assert submit(annotator, first).status_code == 201

    assert reserved(first) == 0 and not TaskLease.objects.filter(task=first).exists()
    assert next_id(annotator, text_project) == second.pk


def test_an_annotator_never_gets_a_task_twice_nor_one_they_skipped(text_project, annotator):
    first, second, third = import_texts(text_project, "a", "b", "c")
    text_project.overlap = 3
    text_project.save()

    submit(annotator, first)
    submit(annotator, second, [], was_cancelled=True, cancel_reason="unclear")

    assert next_id(annotator, text_project) == third.pk
    submit(annotator, third)
    assert next_task(annotator, text_project).status_code == 204


def test_a_task_goes_to_at_most_overlap_annotators_fewest_holders_first(text_project, make_user):
    first, second = import_texts(text_project, "a", "b")
    text_project.overlap = 2
    text_project.save()
    people = [make_user(f"worker{i}") for i in range(5)]
    for person in people:
        services.add_member(project=text_project, user=person, role=Role.ANNOTATOR)

    handed = [next_id(person, text_project) for person in people]

    # A task no one holds goes first, then a second holder each, then nothing is left.
    assert handed == [first.pk, second.pk, first.pk, second.pk, None]
    assert reserved(first) == 2 and reserved(second) == 2


def test_submitted_annotations_count_towards_overlap(text_project, annotator, other_annotator):
    (only,) = import_texts(text_project, "a")
    next_id(annotator, text_project)
    submit(annotator, only)

    assert next_task(other_annotator, text_project).status_code == 204  # overlap 1, done


def test_a_skip_does_not_use_up_the_task(text_project, annotator, other_annotator):
    (only,) = import_texts(text_project, "a")
    next_id(annotator, text_project)
    submit(annotator, only, [], was_cancelled=True)

    assert next_id(other_annotator, text_project) == only.pk


def test_an_expired_lease_returns_the_task_to_the_pool(text_project, annotator, other_annotator):
    (only,) = import_texts(text_project, "a")
    next_id(annotator, text_project)
    assert next_task(other_annotator, text_project).status_code == 204

    TaskLease.objects.filter(task=only).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert next_id(other_annotator, text_project) == only.pk
    assert reserved(only) == 1
    assert list(TaskLease.objects.filter(task=only).values_list("user", flat=True)) == [other_annotator.pk]


def test_a_late_submission_after_the_lease_expired_is_still_kept(text_project, annotator, other_annotator):
    (only,) = import_texts(text_project, "a")
    next_id(annotator, text_project)
    TaskLease.objects.filter(task=only).update(expires_at=timezone.now() - timedelta(seconds=1))
    next_id(other_annotator, text_project)

    assert submit(annotator, only).status_code == 201
    assert submit(other_annotator, only).status_code == 201

    only.refresh_from_db()
    assert (only.annotation_count, only.reserved_count) == (2, 0)


def test_the_lease_length_is_the_projects(text_project, annotator):
    import_texts(text_project, "a")
    client_for(text_project.created_by).patch(f"/api/projects/{text_project.pk}/", {"lease_minutes": 2}, format="json")

    body = next_task(annotator, text_project).json()

    expires = timezone.datetime.fromisoformat(body["lease_expires_at"])
    assert timedelta(minutes=1) < expires - timezone.now() <= timedelta(minutes=2)


def test_release_gives_tasks_back(text_project, annotator, other_annotator):
    (only,) = import_texts(text_project, "a")
    next_id(annotator, text_project)

    response = client_for(annotator).post(f"/api/projects/{text_project.pk}/release/", {"tasks": [only.pk]}, format="json")

    assert response.status_code == 204
    assert reserved(only) == 0
    assert next_id(other_annotator, text_project) == only.pk


def test_release_cannot_drop_someone_elses_lease(text_project, annotator, other_annotator):
    (only,) = import_texts(text_project, "a")
    next_id(annotator, text_project)

    client_for(other_annotator).post(f"/api/projects/{text_project.pk}/release/", {"tasks": [only.pk]}, format="json")

    assert reserved(only) == 1 and TaskLease.objects.filter(user=annotator).exists()


def test_uncertainty_order_hands_out_the_least_confident_task_first(text_project, annotator):
    sure, unsure, unknown = import_texts(text_project, "a", "b", "c")
    Task.objects.filter(pk=sure.pk).update(uncertainty=0.1)
    Task.objects.filter(pk=unsure.pk).update(uncertainty=0.7)
    text_project.queue_order = QueueOrder.UNCERTAINTY
    text_project.save()

    assert next_id(annotator, text_project) == unsure.pk
    assert next_id(annotator, text_project, exclude=str(unsure.pk)) == sure.pk
    assert next_id(annotator, text_project, exclude=f"{unsure.pk},{sure.pk}") == unknown.pk


def test_history_lists_own_annotations_newest_first_in_pages(text_project, annotator, other_annotator):
    tasks = import_texts(text_project, "a", "b", "c")
    text_project.overlap = 2
    text_project.save()
    mine = [submit(annotator, task).json()["id"] for task in tasks[:2]]
    mine.append(submit(annotator, tasks[2], [], was_cancelled=True).json()["id"])
    submit(other_annotator, tasks[0])

    page = client_for(annotator).get(f"/api/projects/{text_project.pk}/history/", {"limit": 2}).json()
    rest = client_for(annotator).get(f"/api/projects/{text_project.pk}/history/", {"limit": 2, "before": page["next_before"]}).json()

    assert [item["annotation"] for item in page["results"]] == [mine[2], mine[1]]
    assert page["results"][0] == {**page["results"][0], "task": tasks[2].pk, "was_cancelled": True}
    assert [item["annotation"] for item in rest["results"]] == [mine[0]]
    assert rest["next_before"] is None


def test_progress_counts_done_skipped_and_remaining(text_project, annotator, other_annotator):
    tasks = import_texts(text_project, "a", "b", "c", "d")
    submit(annotator, tasks[0])
    submit(annotator, tasks[1], [], was_cancelled=True)
    submit(other_annotator, tasks[2])  # finished by someone else: no longer open

    progress = client_for(annotator).get(f"/api/projects/{text_project.pk}/progress/").json()

    assert progress == {"done": 1, "skipped": 1, "remaining": 1}


@pytest.mark.parametrize("exclude, message", [
    ("a,b", "comma-separated task ids"),
    (",".join(str(i) for i in range(1, 30)), "at most 20"),
])
def test_a_bad_exclude_list_is_a_400(text_project, annotator, exclude, message):
    response = next_task(annotator, text_project, exclude=exclude)

    assert response.status_code == 400
    assert message in str(response.json()["exclude"])


@pytest.mark.parametrize("params, field", [({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"before": "x"}, "before")])
def test_bad_history_parameters_are_a_400(text_project, annotator, params, field):
    response = client_for(annotator).get(f"/api/projects/{text_project.pk}/history/", params)

    assert response.status_code == 400 and field in response.json()


def test_release_needs_a_list_of_task_ids(text_project, annotator):
    response = client_for(annotator).post(f"/api/projects/{text_project.pk}/release/", {"tasks": "all"}, format="json")

    assert response.status_code == 400 and "tasks" in response.json()


@pytest.mark.parametrize("path", ["next/", "history/", "progress/"])
def test_outsiders_do_not_see_the_queue(text_project, outsider, path):
    assert client_for(outsider).get(f"/api/projects/{text_project.pk}/{path}").status_code == 404


def test_an_anonymous_caller_is_refused(text_project):
    assert client_for(None).get(f"/api/projects/{text_project.pk}/next/").status_code in (401, 403)


def test_predictions_are_shown_newest_last(text_project, annotator):
    (only,) = import_texts(text_project, "a")
    for version in ("v1", "v2"):
        Prediction.objects.create(task=only, project=text_project, model_version=version, result=[sentiment("Negative")])

    body = next_task(annotator, text_project).json()

    assert [p["model_version"] for p in body["predictions"]] == ["v1", "v2"]


def test_progress_over_several_projects_is_one_query(text_project, image_project, annotator, django_assert_num_queries):
    from projects.selectors import annotator_progress_in

    (task,) = import_texts(text_project, "a")
    submit(annotator, task)

    with django_assert_num_queries(1):
        progress = annotator_progress_in([text_project, image_project], annotator)

    assert progress[text_project.pk]["done"] == 1 and progress[image_project.pk] == {"done": 0, "skipped": 0, "remaining": 0}
