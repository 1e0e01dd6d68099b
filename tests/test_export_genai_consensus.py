"""Per-task consensus figures in the exported files for the GenAI controls: JSON/JSONL carry each control's
agreement and confidence, CSV and JSON_MIN a confidence column, and a PREFERENCE_JSONL line or a RATINGS_CSV row
the agreement of the control it comes from (a ranking's Kendall's W, the ratings' alpha), not the task's mean."""
import csv
import io
import json

import pytest

from projects.models import Task
from quality.consensus import update_task_consensus
from tests.api_helpers import submit
from tests.export_helpers import body_of, export
from tests.test_export_genai import (PAIRWISE_CONFIG, RANKER_CONFIG, RATING_CONFIG, accepted, genai_project, list_task,
                                     pair_task, pairwise, ranking, rating)

pytestmark = pytest.mark.django_db


def merged_project(manager, people, config: str, task_data: dict, answers: list[list[dict]]):
    project, (task,) = genai_project(manager, people, config, [task_data])
    project.overlap = len(answers)
    project.save(update_fields=["overlap"])
    for person, result in zip(people, answers):
        accepted(submit(person, task, result))
    assert update_task_consensus(task.pk)  # what the worker runs once the last annotation is in
    task.refresh_from_db()
    return project, task


def jsonl(content: bytes) -> list[dict]:
    return [json.loads(line) for line in content.splitlines()]


def test_a_ranking_pair_carries_the_rankings_agreement_and_the_files_each_controls(manager, annotator, other_annotator):
    # The two agree on the order (W = 1) and not on the stars, so the task's mean agreement is neither.
    project, task = merged_project(manager, [annotator, other_annotator], RANKER_CONFIG, list_task(), [
        [ranking("r2", "r1", "r3"), rating("quality", "responses", 7, "r1"), rating("quality", "responses", 6, "r2")],
        [ranking("r2", "r1", "r3"), rating("quality", "responses", 1, "r1"), rating("quality", "responses", 6, "r2")],
    ])
    stored = task.consensus_controls
    assert stored["rank"] == {"agreement": 1.0, "confidence": 1.0, "method": "borda"}
    assert stored["quality"]["agreement"] < 1.0 and task.agreement == pytest.approx((1.0 + stored["quality"]["agreement"]) / 2)

    pairs = jsonl(body_of(export(manager, project, exportType="PREFERENCE_JSONL")))
    [record] = json.loads(body_of(export(manager, project, exportType="JSON")))
    [line] = jsonl(body_of(export(manager, project, exportType="JSONL")))
    [row] = csv.DictReader(io.StringIO(body_of(export(manager, project, exportType="CSV")).decode()))
    ratings = list(csv.DictReader(io.StringIO(body_of(export(manager, project, exportType="RATINGS_CSV")).decode())))

    assert len(pairs) == 3 and {pair["agreement"] for pair in pairs} == {1.0}
    assert record["consensus"]["controls"] == line["consensus"]["controls"] == stored
    assert record["consensus"]["confidence"] == task.consensus_confidence is not None
    assert record["confidence"] == task.consensus_confidence
    assert float(row["confidence"]) == pytest.approx(task.consensus_confidence)
    assert float(row["agreement"]) == pytest.approx(task.agreement)
    assert len(ratings) == 2  # the consensus rating of each response
    assert all(float(rated["agreement"]) == pytest.approx(stored["quality"]["agreement"]) for rated in ratings)


def test_a_rating_pair_carries_its_dimensions_agreement(manager, annotator, other_annotator):
    project, task = merged_project(manager, [annotator, other_annotator], RATING_CONFIG, pair_task(1), [
        [rating("helpful_a", "a", 2), rating("helpful_b", "b", 5)],
        [rating("helpful_a", "a", 2), rating("helpful_b", "b", 4)],
    ])
    figures = task.consensus_controls
    assert figures["helpful_a"]["agreement"] == 1.0 and figures["helpful_b"]["agreement"] < 1.0

    [pair] = jsonl(body_of(export(manager, project, exportType="PREFERENCE_JSONL")))

    # helpful_a and helpful_b are one dimension, "helpful": its agreement is theirs together.
    assert pair["control"] == "helpful"
    assert pair["agreement"] == pytest.approx((figures["helpful_a"]["agreement"] + figures["helpful_b"]["agreement"]) / 2)


def test_a_pairwise_consensus_exports_its_confidence(manager, annotator, other_annotator, make_user):
    third = make_user("third_judge")
    project, task = merged_project(manager, [annotator, other_annotator, third], PAIRWISE_CONFIG, pair_task(1),
                                   [[pairwise("left")], [pairwise("left")], [pairwise("right")]])

    [record] = json.loads(body_of(export(manager, project, exportType="JSON")))
    [row] = json.loads(body_of(export(manager, project, exportType="JSON_MIN")))
    [pair] = jsonl(body_of(export(manager, project, exportType="PREFERENCE_JSONL")))

    assert record["consensus"]["controls"]["pw"] == {"agreement": pytest.approx(1 / 3), "confidence": pytest.approx(2 / 3),
                                                     "method": "majority"}
    assert record["consensus"]["confidence"] == pytest.approx(2 / 3) and row["confidence"] == pytest.approx(2 / 3)
    assert (pair["chosen"], pair["agreement"]) == ("Answer A1", pytest.approx(1 / 3))


def test_a_task_merged_before_the_per_control_figures_reports_the_tasks_agreement(manager, annotator):
    project, (task,) = genai_project(manager, [annotator], PAIRWISE_CONFIG, [pair_task(1)])
    Task.objects.filter(pk=task.pk).update(consensus_result=[pairwise("right")], agreement=0.5, consensus_method="majority")

    [pair] = jsonl(body_of(export(manager, project, exportType="PREFERENCE_JSONL")))

    assert pair["agreement"] == 0.5
