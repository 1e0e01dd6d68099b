"""Tasks and annotations through the REST API: listing, seeing, submitting, retrying, editing, deleting."""
import threading

import pytest
from django.db import connection

from projects import services
from projects.models import Annotation, Task
from tests.api_helpers import (
    box, client_for, counts_in_rows, counts_shown, import_tasks, import_texts, sentiment, span, submit,
)

LONDON = "I moved to London last May."


def task_ids(response) -> list[int]:
    return [task["id"] for task in response.json()["results"]]


def task_seen_by(user, task: Task) -> dict:
    response = client_for(user).get(f"/api/tasks/{task.pk}/")
    assert response.status_code == 200
    return response.json()


def annotation_url(annotation_id: int) -> str:
    return f"/api/annotations/{annotation_id}/"


# Task list


def test_task_list_pages_through_every_task(api, annotator, text_project):
    tasks = import_texts(text_project, *(f"review {number}" for number in range(5)))
    url = f"/api/projects/{text_project.pk}/tasks/"

    first_page = api(annotator).get(url, {"page_size": 2})
    last_page = api(annotator).get(url, {"page_size": 2, "page": 3})

    assert first_page.status_code == 200
    assert first_page.json()["count"] == 5 and task_ids(first_page) == [tasks[0].pk, tasks[1].pk]
    assert first_page.json()["next"].endswith("page=2&page_size=2")
    assert task_ids(last_page) == [tasks[4].pk] and last_page.json()["next"] is None


def test_a_page_past_the_end_gets_404(api, annotator, text_project):
    import_texts(text_project, "only one")

    response = api(annotator).get(f"/api/projects/{text_project.pk}/tasks/", {"page": 2})

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_task_list_filters_finished_gold_and_ids_with_exact_counts(api, annotator, text_project):
    tasks = import_texts(text_project, "one", "two", "three", "four")
    submit(annotator, tasks[0])
    Task.objects.filter(pk=tasks[3].pk).update(is_gold=True)
    url = f"/api/projects/{text_project.pk}/tasks/"

    finished = api(annotator).get(url, {"is_finished": "true"})
    unfinished = api(annotator).get(url, {"is_finished": "false"})
    gold = api(annotator).get(url, {"is_gold": "true"})
    later = api(annotator).get(url, {"id_after": tasks[1].pk})

    assert (finished.json()["count"], task_ids(finished)) == (1, [tasks[0].pk])
    assert (unfinished.json()["count"], task_ids(unfinished)) == (3, [task.pk for task in tasks[1:]])
    assert (gold.json()["count"], task_ids(gold)) == (1, [tasks[3].pk])
    assert (later.json()["count"], task_ids(later)) == (2, [tasks[2].pk, tasks[3].pk])


def test_a_malformed_filter_gets_400_naming_it(api, annotator, text_project):
    response = api(annotator).get(f"/api/projects/{text_project.pk}/tasks/", {"id_after": "yesterday"})

    assert response.status_code == 400
    assert response.json() == {"id_after": ["Enter a number."]}


def test_outsider_gets_404_for_tasks(api, outsider, text_project):
    (task,) = import_texts(text_project, "private")

    assert api(outsider).get(f"/api/projects/{text_project.pk}/tasks/").status_code == 404
    response = api(outsider).get(f"/api/tasks/{task.pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No task with that id in your projects."}


# Task detail


def test_annotator_sees_predictions_and_only_their_own_annotations(manager, annotator, other_annotator, text_project):
    prediction = {"model_version": "v1", "score": 0.8, "result": [sentiment("Negative")]}
    imported = {"result": [sentiment("Neutral")]}
    (task,) = import_tasks(text_project, [{"data": {"text": "Cold soup"}, "predictions": [prediction], "annotations": [imported]}])
    mine = submit(annotator, task, [sentiment("Negative")]).json()["id"]
    theirs = submit(other_annotator, task, [sentiment("Positive")]).json()["id"]

    as_annotator = task_seen_by(annotator, task)
    as_manager = task_seen_by(manager, task)

    assert [annotation["id"] for annotation in as_annotator["annotations"]] == [mine]
    assert {annotation["id"] for annotation in as_manager["annotations"]} >= {mine, theirs}
    assert len(as_manager["annotations"]) == 3
    for seen in (as_annotator, as_manager):
        assert seen["data"] == {"text": "Cold soup"}
        assert [(p["model_version"], p["score"], p["result"]) for p in seen["predictions"]] == [("v1", 0.8, [sentiment("Negative")])]


def test_annotator_cannot_read_someone_elses_annotation(api, annotator, other_annotator, text_project):
    (task,) = import_texts(text_project, "Great food")
    theirs = submit(other_annotator, task).json()["id"]

    response = api(annotator).get(annotation_url(theirs))

    assert response.status_code == 404
    assert response.json() == {"detail": "No annotation with that id that you may see."}


# Submitting


def test_annotator_submits_an_annotation(api, annotator, text_project):
    (task,) = import_texts(text_project, LONDON)
    result = [sentiment("Positive"), span(LONDON, 11, 17, "LOC")]

    response = submit(annotator, task, result, lead_time=4.5)

    assert response.status_code == 201
    body = response.json()
    assert (body["task"], body["completed_by"], body["result"], body["lead_time"], body["version"]) == (
        task.pk, annotator.pk, result, 4.5, 1,
    )
    assert api(annotator).get(annotation_url(body["id"])).json()["result"] == result


@pytest.mark.parametrize(
    ("result", "complaint"),
    [
        (
            [{"from_name": "mood", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}],
            "result[0]: from_name 'mood' is not a control of this project (entities, sentiment)",
        ),
        ([sentiment("Ecstatic")], "result[0]: 'Ecstatic' is not a label of sentiment (Positive, Negative, Neutral)"),
        (
            [sentiment("Positive"), span(LONDON, 11, 17, "LOC", quoted="Londn")],
            "result[1]: value.text 'Londn' does not match the text at [11, 17): 'London'",
        ),
        ([span(LONDON, 11, 17, "CITY")], "result[0]: 'CITY' is not a label of entities (PER, LOC, ORG)"),
        ([span(LONDON, 20, 90, "LOC")], "result[0]: span [20, 90) is outside the text (length 27)"),
        ({"choices": ["Positive"]}, "result must be a list of result items"),
    ],
)
def test_a_result_that_does_not_fit_the_config_gets_400_naming_the_problem(annotator, text_project, result, complaint):
    (task,) = import_texts(text_project, LONDON)

    response = submit(annotator, task, result)

    assert response.status_code == 400
    assert response.json() == {"result": [complaint]}
    assert not Annotation.objects.exists()


def test_a_box_outside_the_image_gets_400(annotator, image_project):
    (task,) = import_tasks(image_project, [{"image": "https://example.com/face.jpg"}])

    response = submit(annotator, task, [box(90, 10, 20, 20)])

    assert response.status_code == 400
    assert response.json() == {"result": ["result[0]: box x=90, y=10, width=20, height=20 is outside the image (0-100%)"]}
    assert submit(annotator, task, [box(70, 10, 20, 20)]).status_code == 201


def test_a_second_submit_on_the_same_task_gets_409_pointing_at_the_first(annotator, text_project):
    (task,) = import_texts(text_project, "Great food")
    first = submit(annotator, task).json()["id"]

    response = submit(annotator, task, [sentiment("Negative")])

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"You already annotated task {task.pk}: PATCH /api/annotations/{first}/ to change it.",
        "annotation_id": first,
    }
    assert Annotation.objects.get().result == [sentiment("Positive")]


def test_a_retry_with_the_same_idempotency_key_returns_the_first_annotation(manager, annotator, text_project):
    (task,) = import_texts(text_project, "Great food")
    first = submit(annotator, task, key="submit-1")

    retry = submit(annotator, task, key="submit-1")

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]
    assert Annotation.objects.filter(task=task).count() == 1
    assert counts_shown(manager, text_project)["annotation_count"] == 1


def test_an_idempotency_key_reused_on_another_task_gets_422(annotator, text_project):
    first_task, second_task = import_texts(text_project, "Great food", "Slow service")
    submit(annotator, first_task, key="submit-1")

    response = submit(annotator, second_task, key="submit-1")

    assert response.status_code == 422
    assert response.json() == {
        "detail": f"Idempotency-Key 'submit-1' was already used for task {first_task.pk}; send a new key for a new submission.",
    }
    assert not Annotation.objects.filter(task=second_task).exists()


def test_outsider_cannot_submit(outsider, text_project):
    (task,) = import_texts(text_project, "Great food")

    assert submit(outsider, task).status_code == 404
    assert not Annotation.objects.exists()


def test_a_skip_counts_as_cancelled_not_finished(manager, annotator, text_project):
    (task,) = import_texts(text_project, "Great food")

    response = submit(annotator, task, [], was_cancelled=True, cancel_reason="unreadable")

    assert response.status_code == 201
    assert (response.json()["was_cancelled"], response.json()["cancel_reason"]) == (True, "unreadable")
    seen = task_seen_by(manager, task)
    assert (seen["annotation_count"], seen["cancelled_count"], seen["is_finished"]) == (0, 1, False)
    assert counts_shown(manager, text_project) == {"task_count": 1, "finished_task_count": 0, "annotation_count": 0}


def test_a_task_is_finished_once_overlap_annotators_submitted(api, manager, annotator, other_annotator, text_project):
    api(manager).patch(f"/api/projects/{text_project.pk}/", {"overlap": 2})
    (task,) = import_texts(text_project, "Great food")

    submit(annotator, task)
    assert task_seen_by(manager, task)["is_finished"] is False
    assert counts_shown(manager, text_project)["finished_task_count"] == 0

    submit(other_annotator, task)
    assert task_seen_by(manager, task)["is_finished"] is True
    assert counts_shown(manager, text_project) == {"task_count": 1, "finished_task_count": 1, "annotation_count": 2}


# Editing and deleting


def test_annotator_edits_their_annotation_and_the_version_goes_up(api, annotator, text_project):
    (task,) = import_texts(text_project, "Great food")
    annotation = submit(annotator, task).json()

    response = api(annotator).patch(annotation_url(annotation["id"]), {"result": [sentiment("Neutral")], "version": 1})

    assert response.status_code == 200
    assert (response.json()["result"], response.json()["version"]) == ([sentiment("Neutral")], 2)


def test_an_edit_of_a_stale_version_gets_409(api, annotator, text_project):
    (task,) = import_texts(text_project, "Great food")
    annotation_id = submit(annotator, task).json()["id"]
    api(annotator).patch(annotation_url(annotation_id), {"result": [sentiment("Neutral")], "version": 1})

    stale_body = api(annotator).patch(annotation_url(annotation_id), {"result": [sentiment("Negative")], "version": 1})
    stale_header = api(annotator).patch(annotation_url(annotation_id), {"result": [sentiment("Negative")]}, headers={"If-Match": '"1"'})

    for response in (stale_body, stale_header):
        assert response.status_code == 409
        assert response.json() == {
            "detail": f"Annotation {annotation_id} changed since you loaded it (you have version 1, it is at version 2); "
            "reload it and apply your edit again."
        }
    assert Annotation.objects.get().result == [sentiment("Neutral")]
    current = api(annotator).patch(annotation_url(annotation_id), {"result": [sentiment("Negative")]}, headers={"If-Match": '"2"'})
    assert (current.status_code, current.json()["version"]) == (200, 3)


def test_an_edit_is_validated_against_the_config(api, annotator, text_project):
    (task,) = import_texts(text_project, "Great food")
    annotation_id = submit(annotator, task).json()["id"]

    response = api(annotator).patch(annotation_url(annotation_id), {"result": [sentiment("Ecstatic")]})

    assert response.status_code == 400
    assert response.json() == {"result": ["result[0]: 'Ecstatic' is not a label of sentiment (Positive, Negative, Neutral)"]}


def test_unskipping_a_skip_checks_the_result_it_keeps(api, manager, annotator, text_project):
    (task,) = import_texts(text_project, "Great food")
    skipped = submit(annotator, task, [sentiment("Ecstatic")], was_cancelled=True).json()["id"]

    response = api(annotator).patch(annotation_url(skipped), {"was_cancelled": False})

    assert response.status_code == 400
    assert response.json() == {"result": ["result[0]: 'Ecstatic' is not a label of sentiment (Positive, Negative, Neutral)"]}
    fixed = api(annotator).patch(annotation_url(skipped), {"was_cancelled": False, "result": [sentiment("Positive")]})
    assert fixed.status_code == 200
    assert counts_shown(manager, text_project) == {"task_count": 1, "finished_task_count": 1, "annotation_count": 1}


def test_annotator_cannot_edit_or_delete_someone_elses_annotation(api, annotator, other_annotator, text_project):
    (task,) = import_texts(text_project, "Great food")
    theirs = submit(other_annotator, task).json()["id"]

    edited = api(annotator).patch(annotation_url(theirs), {"result": [sentiment("Negative")]})
    deleted = api(annotator).delete(annotation_url(theirs))

    assert (edited.status_code, deleted.status_code) == (404, 404)
    assert Annotation.objects.get(pk=theirs).result == [sentiment("Positive")]


def test_a_reviewer_sees_but_cannot_edit_someone_elses_annotation(api, manager, outsider, annotator, text_project):
    services.add_member(project=text_project, user=outsider, role="reviewer")
    (task,) = import_texts(text_project, "Great food")
    theirs = submit(annotator, task).json()["id"]

    assert api(outsider).get(annotation_url(theirs)).status_code == 200
    response = api(outsider).patch(annotation_url(theirs), {"result": [sentiment("Negative")]})
    assert response.status_code == 403
    assert response.json() == {"detail": "Only the annotation's author or a project manager may change it."}


def test_manager_edits_and_deletes_an_annotators_work_and_counters_move_back(api, manager, annotator, text_project):
    (task,) = import_texts(text_project, "Great food")
    annotation_id = submit(annotator, task).json()["id"]

    edited = api(manager).patch(annotation_url(annotation_id), {"result": [sentiment("Negative")]})
    assert (edited.status_code, edited.json()["completed_by"]) == (200, annotator.pk)
    assert counts_shown(manager, text_project) == {"task_count": 1, "finished_task_count": 1, "annotation_count": 1}

    deleted = api(manager).delete(annotation_url(annotation_id))

    assert deleted.status_code == 204
    assert api(manager).get(annotation_url(annotation_id)).status_code == 404
    assert counts_shown(manager, text_project) == {"task_count": 1, "finished_task_count": 0, "annotation_count": 0}
    assert task_seen_by(manager, task)["is_finished"] is False
    assert counts_shown(manager, text_project) == counts_in_rows(text_project)


def test_deleting_a_skip_moves_only_the_cancelled_counter(api, manager, annotator, text_project):
    (task,) = import_texts(text_project, "Great food")
    skipped = submit(annotator, task, [], was_cancelled=True).json()["id"]

    assert api(annotator).delete(annotation_url(skipped)).status_code == 204

    seen = task_seen_by(manager, task)
    assert (seen["annotation_count"], seen["cancelled_count"]) == (0, 0)
    assert submit(annotator, task).status_code == 201


# Concurrent submissions


def submit_at_once(user, task: Task, keys: list[str | None]) -> list[int]:
    """Send one submission per key from its own thread and connection, released together; answer the statuses."""
    start = threading.Barrier(len(keys))
    statuses: list[int] = []

    def send(key: str | None) -> None:
        try:
            start.wait()
            statuses.append(submit(user, task, key=key).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_a_double_submit_with_one_idempotency_key_stores_one_annotation(transactional_db, manager, annotator, text_project):
    (task,) = import_texts(text_project, "Great food")

    statuses = submit_at_once(annotator, task, ["tab-1", "tab-1", "tab-1"])

    assert statuses == [200, 200, 201]
    assert Annotation.objects.filter(task=task).count() == 1
    assert counts_shown(manager, text_project) == {"task_count": 1, "finished_task_count": 1, "annotation_count": 1}


def test_two_tabs_submitting_at_once_store_one_annotation_and_get_409(transactional_db, manager, annotator, text_project):
    (task,) = import_texts(text_project, "Great food")

    statuses = submit_at_once(annotator, task, ["tab-1", "tab-2"])

    assert statuses == [201, 409]
    assert Annotation.objects.filter(task=task).count() == 1
    assert counts_shown(manager, text_project) == counts_in_rows(text_project)


def test_a_filter_value_that_is_not_true_or_false_gets_400(api, manager, text_project):
    response = api(manager).get(f"/api/projects/{text_project.pk}/tasks/?is_finished=maybe")

    assert response.status_code == 400
    assert "is_finished" in response.json()
