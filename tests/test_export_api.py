"""GET /api/projects/{id}/export: which annotations and tasks, the filters, who may export, and bad parameters."""
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from projects.models import Annotation, Task
from tests.api_helpers import sentiment
from tests.export_helpers import body_of, export, label_texts

POSITIVE, NEGATIVE = [sentiment("Positive")], [sentiment("Negative")]


@pytest.fixture
def texts(text_project, annotator, other_annotator):
    return label_texts(text_project, annotator, other_annotator)


def exported(user, project, **params) -> dict[int, list[dict]]:
    """Task id -> its exported annotations, from the JSON export."""
    tasks = json.loads(body_of(export(user, project, exportType="JSON", **params)))
    return {task["id"]: task["annotations"] for task in tasks}


def origins(annotations: list[dict]) -> list[str]:
    return [annotation["origin"] for annotation in annotations]


@pytest.fixture
def merged(texts, manager):
    """The first task has a consensus result; the second was reviewed too."""
    first, second, _ = texts
    Task.objects.filter(pk=first.pk).update(consensus_result=POSITIVE, agreement=1.0, consensus_method="majority")
    Task.objects.filter(pk=second.pk).update(
        consensus_result=POSITIVE, agreement=0.5, consensus_method="majority",
        reviewed_result=NEGATIVE, reviewed_by=manager, reviewed_at=timezone.now(),
    )
    return texts


def test_by_default_each_task_has_its_final_result(manager, text_project, merged):
    first, second, _ = merged

    tasks = json.loads(body_of(export(manager, text_project, exportType="JSON")))

    assert [(task["id"], origins(task["annotations"])) for task in tasks] == [(first.pk, ["consensus"]), (second.pk, ["review"])]
    assert tasks[0]["annotations"][0]["result"] == POSITIVE and tasks[1]["annotations"][0]["result"] == NEGATIVE
    assert tasks[1]["annotations"][0]["completed_by"] == manager.pk
    assert tasks[0]["consensus"] == {"result": POSITIVE, "agreement": 1.0, "confidence": None, "method": "majority", "controls": {}}


def test_annotations_all_consensus_and_reviewed(manager, text_project, merged):
    first, second, _ = merged

    assert {task: origins(items) for task, items in exported(manager, text_project, annotations="all").items()} == {
        first.pk: ["annotation", "annotation"], second.pk: ["annotation", "annotation"]}
    assert {task: origins(items) for task, items in exported(manager, text_project, annotations="consensus").items()} == {
        first.pk: ["consensus"], second.pk: ["consensus"]}
    assert {task: origins(items) for task, items in exported(manager, text_project, annotations="reviewed").items()} == {
        second.pk: ["review"]}


def test_without_consensus_the_default_is_every_annotation(manager, text_project, texts):
    assert {task: len(items) for task, items in exported(manager, text_project).items()} == {texts[0].pk: 2, texts[1].pk: 2}


def test_min_agreement_keeps_tasks_that_agree_enough(manager, text_project, merged):
    assert list(exported(manager, text_project, min_agreement="0.75")) == [merged[0].pk]
    assert list(exported(manager, text_project, min_agreement="0")) == [merged[0].pk, merged[1].pk]


def test_annotator_filter_keeps_their_tasks_and_their_annotations(manager, annotator, other_annotator, text_project, texts):
    by_id = exported(manager, text_project, annotator=str(other_annotator.pk))
    by_name = exported(manager, text_project, annotator=other_annotator.username)

    assert by_id == by_name
    assert {task: [item["completed_by"] for item in items] for task, items in by_id.items()} == {
        texts[0].pk: [other_annotator.pk], texts[1].pk: [other_annotator.pk]}


def test_date_range_filters_on_when_annotations_were_made(manager, annotator, text_project, texts):
    old = Annotation.objects.filter(task=texts[0])
    old.update(created_at=timezone.now() - timedelta(days=10))
    day = (timezone.now() - timedelta(days=3)).date().isoformat()

    assert list(exported(manager, text_project, annotated_after=day)) == [texts[1].pk]
    assert list(exported(manager, text_project, annotated_before=day)) == [texts[0].pk]
    assert exported(manager, text_project, annotated_after=timezone.now().isoformat()) == {}


def test_tasks_scope_finished_and_all(manager, text_project, texts):
    Task.objects.filter(pk=texts[1].pk).update(is_finished=False)

    assert list(exported(manager, text_project, tasks="finished")) == [texts[0].pk]
    everything = exported(manager, text_project, tasks="all")
    assert list(everything) == [task.pk for task in texts] and everything[texts[2].pk] == []
    assert list(exported(manager, text_project, download_all_tasks="true")) == list(everything)


def test_an_empty_selection_is_a_valid_empty_file(manager, text_project):
    assert json.loads(body_of(export(manager, text_project, exportType="JSON"))) == []


# Who may export

def test_annotators_cannot_export_unless_the_project_allows_it(api, manager, annotator, text_project, texts):
    refused = export(annotator, text_project, exportType="JSON")

    assert refused.status_code == 403
    assert "annotators_can_export" in refused.json()["detail"]
    text_project.annotators_can_export = True
    text_project.save(update_fields=["annotators_can_export"])
    blind = export(annotator, text_project, exportType="JSON")
    assert blind.status_code == 403 and "blind" in blind.json()["detail"]
    text_project.blind = False
    text_project.save(update_fields=["blind"])
    # Allowed, they get what a manager gets: every annotation, not only their own.
    assert body_of(export(annotator, text_project, exportType="JSONL")) == body_of(export(manager, text_project, exportType="JSONL"))


def test_outsiders_get_404(outsider, text_project, texts):
    response = export(outsider, text_project, exportType="JSON")

    assert response.status_code == 404


def test_anonymous_callers_must_sign_in(text_project):
    from tests.conftest import client_for

    assert client_for(None).get(f"/api/projects/{text_project.pk}/export", {"exportType": "JSON"}).status_code in (401, 403)


# Bad parameters

@pytest.mark.parametrize("params, field, fragment", [
    ({}, "exportType", "Name the format with exportType"),
    ({"exportType": "PARQUET"}, "exportType", '"PARQUET" is not an export format; use one of JSON, JSON_MIN'),
    ({"exportType": "JSON", "annotations": "best"}, "annotations", '"best" is not a valid choice'),
    ({"exportType": "JSON", "tasks": "some"}, "tasks", '"some" is not a valid choice'),
    ({"exportType": "JSON", "min_agreement": "1.5"}, "min_agreement", "less than or equal to 1"),
    ({"exportType": "JSON", "min_agreement": "-0.1"}, "min_agreement", "greater than or equal to 0"),
    ({"exportType": "JSON", "min_agreement": "high"}, "min_agreement", "A valid number is required"),
    ({"exportType": "JSON", "annotator": "nobody"}, "annotator", "has the id or username 'nobody'"),
    ({"exportType": "JSON", "annotator": "999999"}, "annotator", "has the id or username '999999'"),
    ({"exportType": "JSON", "annotated_after": "last tuesday"}, "annotated_after", "Datetime has wrong format"),
    ({"exportType": "JSON", "annotated_after": "2026-11-02", "annotated_before": "2026-11-01"}, "annotated_before", "must be later than annotated_after"),
    ({"exportType": "JSON", "min_agreemnt": "0.5"}, "min_agreemnt", "unknown parameter"),
])
def test_bad_parameters_are_a_400_that_names_them(manager, text_project, params, field, fragment):
    response = export(manager, text_project, **params)

    assert response.status_code == 400
    assert fragment in " ".join(response.json()[field])


def test_an_outsider_learns_nothing_from_bad_parameters(outsider, text_project):
    assert export(outsider, text_project, exportType="PARQUET").status_code == 404


def test_a_selection_over_the_direct_download_limit_is_413_pointing_at_snapshots(manager, text_project, texts, settings):
    settings.LABELER_EXPORT_SYNC_MAX_TASKS = 1

    response = export(manager, text_project, exportType="JSON")

    assert response.status_code == 413
    body = response.json()
    assert (body["task_count"], body["limit"]) == (2, 1)
    assert f"POST /api/projects/{text_project.pk}/exports/" in body["detail"]
    assert export(manager, text_project, exportType="JSON", annotator="other_annotator", min_agreement="0").status_code == 200


def test_timestamps_are_iso_8601_in_utc_to_the_microsecond(manager, text_project, texts):
    from datetime import datetime

    task = json.loads(body_of(export(manager, text_project, exportType="JSON")))[0]
    stamp = task["annotations"][0]["created_at"]

    assert stamp.endswith("Z")
    assert datetime.fromisoformat(stamp.replace("Z", "+00:00")) == Annotation.objects.get(pk=task["annotations"][0]["id"]).created_at


def test_queries_do_not_grow_with_the_number_of_tasks(manager, annotator, text_project, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from exports import selection
    from tests.api_helpers import import_texts, submit

    def queries_for_export() -> int:
        with CaptureQueriesContext(connection) as captured:
            body_of(export(manager, text_project, exportType="JSON", annotations="all"))
        return len(captured)

    for task in import_texts(text_project, "one", "two"):
        submit(annotator, task)
    few = queries_for_export()
    for task in import_texts(text_project, *(f"text {n}" for n in range(20))):
        submit(annotator, task)
    many = queries_for_export()
    monkeypatch.setattr(selection, "CHUNK_SIZE", 10)
    chunked = queries_for_export()

    assert few == many
    assert chunked == many + 2 * 3  # 22 tasks in 3 chunks instead of 1: two more of (tasks, annotations, predictions)
