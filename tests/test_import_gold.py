"""Gold through the API: set on import (JSON, JSONL, CSV, Label Studio's ground_truth), changed by managers with
PATCH /api/tasks/{id}/, and then handed out as gold; no task key is dropped silently; DELETE keeps counters."""
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.models import Task
from tests.api_helpers import counts_in_rows, counts_shown, import_texts, sentiment, submit
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
POSITIVE = sentiment("Positive")


def import_url(project) -> str:
    return f"/api/projects/{project.pk}/import"


def post_file(project, name: str, content: bytes):
    upload = SimpleUploadedFile(name, content)
    return client_for(project.created_by).post(import_url(project), {"file": upload}, format="multipart")


def post_json(project, body):
    return client_for(project.created_by).post(import_url(project), body, format="json")


def only_task(project) -> Task:
    return Task.objects.get(project=project)


def task_url(task) -> str:
    return f"/api/tasks/{task.pk}/"


# --- gold on import ----------------------------------------------------------------------------------------------

def test_a_json_task_with_is_gold_and_gold_result_is_stored_as_gold(text_project):
    response = post_json(text_project, [{"data": {"text": "known"}, "is_gold": True, "gold_result": [POSITIVE]}])
    assert response.status_code == 201, response.content
    task = only_task(text_project)
    assert (task.is_gold, task.gold_result) == (True, [POSITIVE])
    assert client_for(text_project.created_by).get(f"/api/projects/{text_project.pk}/tasks/?is_gold=true").json()["count"] == 1


def test_a_jsonl_task_with_gold_result_alone_is_gold(text_project):
    line = json.dumps({"data": {"text": "known"}, "gold_result": [POSITIVE]}).encode() + b"\n"
    assert post_file(text_project, "gold.jsonl", line).status_code == 201
    assert (only_task(text_project).is_gold, only_task(text_project).gold_result) == (True, [POSITIVE])


def test_csv_columns_is_gold_and_gold_result_make_gold_tasks(text_project):
    gold_cell = json.dumps([POSITIVE]).replace('"', '""')
    content = f'text,is_gold,gold_result\nknown,true,"{gold_cell}"\nplain,,\n'.encode()
    assert post_file(text_project, "tasks.csv", content).status_code == 201, "csv"
    known, plain = Task.objects.filter(project=text_project).order_by("id")
    assert (known.data, known.is_gold, known.gold_result) == ({"text": "known"}, True, [POSITIVE])
    assert (plain.data, plain.is_gold, plain.gold_result) == ({"text": "plain"}, False, None)


def test_a_label_studio_ground_truth_annotation_makes_the_task_gold(text_project):
    task = {"data": {"text": "known"}, "annotations": [
        {"result": [sentiment("Negative")], "ground_truth": False},
        {"result": [POSITIVE], "ground_truth": True, "completed_by": 3},
    ]}
    response = post_json(text_project, [task])
    assert response.status_code == 201
    assert response.json()["annotation_count"] == 2  # the annotations are kept as well
    stored = only_task(text_project)
    assert (stored.is_gold, stored.gold_result) == (True, [POSITIVE])


REFUSED = {
    "gold result not in the config": (
        [{"data": {"text": "x"}, "is_gold": True, "gold_result": [sentiment("Angry")]}],
        "task 1: gold_result: result[0]: 'Angry' is not a label of sentiment"),
    "gold without an answer": ([{"data": {"text": "x"}, "is_gold": True}], "task 1: is_gold is true but there is no gold_result"),
    "is_gold not a boolean": ([{"data": {"text": "x"}, "is_gold": "yes", "gold_result": [POSITIVE]}], "is_gold must be true or false"),
    "gold_result but is_gold false": ([{"data": {"text": "x"}, "is_gold": False, "gold_result": [POSITIVE]}], "is_gold is false"),
    "ground truth disagreeing with gold_result": (
        [{"data": {"text": "x"}, "gold_result": [sentiment("Neutral")], "annotations": [{"result": [POSITIVE], "ground_truth": True}]}],
        "differs from the result of the ground_truth annotation"),
    "unknown top-level key": ([{"data": {"text": "x"}, "priority": 3}], 'task 1: unknown field "priority"'),
    "task keys without data": ([{"text": "x", "is_gold": True}], 'task 1: has "is_gold" but no "data" object'),
    "meta not an object": ([{"data": {"text": "x"}, "meta": [1]}], "task 1: meta must be an object"),
}


@pytest.mark.parametrize("body, fragment", REFUSED.values(), ids=REFUSED.keys())
def test_gold_and_unknown_keys_that_do_not_fit_are_refused_naming_the_task(text_project, body, fragment):
    response = post_json(text_project, [{"text": "fine"}, *body])
    assert response.status_code == 400, response.content
    assert fragment.replace("task 1", "task 2") in response.json()["detail"]
    assert not Task.objects.filter(project=text_project).exists()


def test_csv_gold_cells_that_are_not_understood_are_refused_naming_the_line(text_project):
    response = post_file(text_project, "tasks.csv", b"text,is_gold\nknown,maybe\n")
    assert response.status_code == 400
    assert "tasks.csv: line 2: is_gold must be true or false" in response.json()["detail"]


def test_label_studio_bookkeeping_keys_are_kept_in_meta_or_knowingly_ignored(text_project):
    exported = {
        "id": 41, "inner_id": 7, "project": 3, "file_upload": "a.json", "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-02T00:00:00Z", "updated_by": 2, "total_annotations": 0, "cancelled_annotations": 0,
        "total_predictions": 0, "drafts": [{"result": []}], "comment_count": 0, "unresolved_comment_count": 0,
        "last_comment_updated_at": None, "comment_authors": [], "data": {"text": "from LS"}, "meta": {"batch": 1},
    }
    assert post_json(text_project, [exported]).status_code == 201
    assert only_task(text_project).meta == {"batch": 1, "label_studio": {
        "id": 41, "inner_id": 7, "project": 3, "file_upload": "a.json", "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-02T00:00:00Z", "updated_by": 2,
    }}


# --- gold set and unset by managers -------------------------------------------------------------------------------

def test_a_manager_makes_a_task_gold_with_patch_and_the_queue_hands_it_out_as_gold(text_project, manager, annotator):
    plain, known = import_texts(text_project, "plain", "known")
    client_for(manager).patch(f"/api/projects/{text_project.pk}/", {"gold_share": 1.0}, format="json")

    response = client_for(manager).patch(task_url(known), {"is_gold": True, "gold_result": [POSITIVE]}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["is_gold"] is True
    handed = client_for(annotator).get(f"/api/projects/{text_project.pk}/next/").json()
    assert handed["id"] == known.pk  # a gold share of 1: the gold task comes first
    assert client_for(manager).patch(task_url(known), {"is_gold": False}, format="json").json()["is_gold"] is False


def test_patch_changes_data_and_meta_checked_against_the_config(text_project, manager):
    (task,) = import_texts(text_project, "old text")
    client = client_for(manager)

    changed = client.patch(task_url(task), {"data": {"text": "new text"}, "meta": {"source": "fix"}}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["data"], changed.json()["meta"]) == ({"text": "new text"}, {"source": "fix"})

    assert "data" in client.patch(task_url(task), {"data": {"body": "no text field"}}, format="json").json()
    assert "gold_result" in client.patch(task_url(task), {"is_gold": True}, format="json").json()
    refused = client.patch(task_url(task), {"gold_result": [sentiment("Angry")]}, format="json")
    assert refused.status_code == 400 and "'Angry' is not a label" in refused.json()["gold_result"][0]
    unknown = client.patch(task_url(task), {"priority": 1}, format="json")
    assert unknown.status_code == 400 and "priority" in unknown.json()
    task.refresh_from_db()
    assert (task.data, task.is_gold, task.gold_result) == ({"text": "new text"}, False, None)


def test_patched_data_must_still_fit_the_annotations(text_project, manager, annotator):
    from tests.api_helpers import span

    (task,) = import_texts(text_project, "Ann lives in London")
    submit(annotator, task, [span("Ann lives in London", 13, 19, "LOC")])
    response = client_for(manager).patch(task_url(task), {"data": {"text": "Ann"}}, format="json")
    assert response.status_code == 400
    assert "would no longer fit the new data" in response.json()["data"][0]


def test_only_managers_change_or_delete_tasks(text_project, annotator, outsider, reviewer):
    (task,) = import_texts(text_project, "text")
    for member in (annotator, reviewer):
        assert client_for(member).patch(task_url(task), {"is_gold": False}, format="json").status_code == 403
        assert client_for(member).delete(task_url(task)).status_code == 403
    assert client_for(outsider).patch(task_url(task), {"is_gold": False}, format="json").status_code == 404
    assert client_for(outsider).delete(task_url(task)).status_code == 404
    assert client_for(text_project.created_by).put(task_url(task), {"data": {"text": "x"}}, format="json").status_code == 405
    assert Task.objects.filter(pk=task.pk).exists()


def test_delete_removes_the_task_and_keeps_the_project_counters_right(text_project, manager, annotator):
    done, open_task = import_texts(text_project, "done", "open")
    submit(annotator, done)
    assert client_for(manager).delete(task_url(done)).status_code == 204
    assert client_for(manager).get(task_url(done)).status_code == 404
    assert counts_shown(manager, text_project) == counts_in_rows(text_project) == {
        "task_count": 1, "finished_task_count": 0, "annotation_count": 0,
    }
