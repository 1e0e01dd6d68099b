"""PREFERENCE_JSONL, SFT_JSONL and RATINGS_CSV through GET /api/projects/{id}/export, each file loaded with
Hugging Face `datasets` as training code loads it, and the preference rows checked against TRL's documented
preference schema (standard and conversational); tests/test_export_trl.py trains TRL itself on them."""
import csv
import io
import json

import pytest

from exports import services
from exports.selection import ExportFilters
from projects import services as project_services
from projects.models import Role, Task
from tests.api_helpers import import_tasks, submit
from tests.export_helpers import body_of, export

PAIRWISE_CONFIG = """<View><Text name="prompt" value="$prompt"/>
  <Text name="a" value="$response_a"/><Text name="b" value="$response_b"/>
  <Pairwise name="pw" toName="a,b" allowTie="true"/><TextArea name="rewrite" toName="a"/></View>"""
DIALOGUE_CONFIG = """<View><Paragraphs name="chat" value="$dialogue" layout="dialogue" nameKey="role" textKey="content"/>
  <Text name="a" value="$response_a"/><Text name="b" value="$response_b"/><Pairwise name="pw" toName="a,b" allowTie="true"/></View>"""
RANKER_CONFIG = """<View><Text name="prompt" value="$prompt"/><List name="responses" value="$responses"/>
  <Ranker name="rank" toName="responses"/><Rating name="quality" toName="responses" perItem="true" maxRating="7"/></View>"""
RATING_CONFIG = """<View><Text name="prompt" value="$prompt"/>
  <Text name="a" value="$response_a"/><Text name="b" value="$response_b"/>
  <Rating name="helpful_a" toName="a"/><Rating name="helpful_b" toName="b"/></View>"""
DIALOGUE = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}]
TRL_ROLES = {"system", "user", "assistant", "tool"}


def genai_project(manager, annotators, config: str, tasks: list[dict]) -> tuple:
    project = project_services.create_project(creator=manager, title="Preferences", label_config=config)
    for user in annotators:
        project_services.add_member(project=project, user=user, role=Role.ANNOTATOR)
    return project, import_tasks(project, tasks)


def pair_task(number: int) -> dict:
    return {"prompt": f"Question {number}?", "response_a": f"Answer A{number}", "response_b": f"Answer B{number}",
            "model_a": "alpha", "model_b": "beta"}


def pairwise(selected: str) -> dict:
    return {"from_name": "pw", "to_name": "a,b", "type": "pairwise", "value": {"selected": selected}}


def ranking(*ids: str) -> dict:
    return {"from_name": "rank", "to_name": "responses", "type": "ranker", "value": {"ranker": {"rank": list(ids)}}}


def rating(name: str, to_name: str, stars: int, item_index=None) -> dict:
    item = {"from_name": name, "to_name": to_name, "type": "rating", "value": {"rating": stars}}
    return item if item_index is None else {**item, "item_index": item_index}


def rewrite(text: str) -> dict:
    return {"from_name": "rewrite", "to_name": "a", "type": "textarea", "value": {"text": [text]}}


def accepted(response) -> None:
    assert response.status_code == 201, response.json()


def load(content: bytes, tmp_path, builder: str = "json") -> list[dict]:
    """The file as `datasets.load_dataset` reads it."""
    import datasets

    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"export.{'jsonl' if builder == 'json' else 'csv'}"
    path.write_bytes(content)
    loaded = datasets.load_dataset(builder, data_files=str(path), split="train", cache_dir=str(tmp_path / "cache"))
    return loaded.to_list()


def assert_trl_preference(row: dict, *, conversational: bool) -> None:
    """TRL's preference format: prompt, chosen, rejected as strings (standard), or as lists of
    {"role", "content"} messages with the responses as assistant turns (conversational)."""
    if not conversational:
        assert all(isinstance(row[key], str) and row[key] for key in ("prompt", "chosen", "rejected"))
        return
    for key in ("prompt", "chosen", "rejected"):
        assert row[key] and all(set(message) == {"role", "content"} and message["role"] in TRL_ROLES
                                and isinstance(message["content"], str) for message in row[key])
    assert [message["role"] for message in row["chosen"]] == ["assistant"] == [message["role"] for message in row["rejected"]]


@pytest.fixture(autouse=True)
def offline_hub(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


# --- PREFERENCE_JSONL -------------------------------------------------------------------------------------------

def test_pairwise_answers_become_trl_preference_rows_and_ties_none(manager, annotator, other_annotator, tmp_path):
    project, (first, second) = genai_project(manager, [annotator, other_annotator], PAIRWISE_CONFIG, [pair_task(1), pair_task(2)])
    accepted(submit(annotator, first, [pairwise("left")]))
    accepted(submit(other_annotator, first, [pairwise("right")]))
    accepted(submit(annotator, second, [pairwise("tie")]))

    response = export(manager, project, exportType="PREFERENCE_JSONL")

    assert response["Content-Type"] == "application/x-ndjson"
    rows = load(body_of(response), tmp_path)
    assert {"prompt", "chosen", "rejected", "task_id", "agreement", "margin"} <= set(rows[0])
    assert [(row["task_id"], row["chosen"], row["rejected"], row["chosen_model"], row["annotator"]) for row in rows] == [
        (first.pk, "Answer A1", "Answer B1", "alpha", annotator.pk),
        (first.pk, "Answer B1", "Answer A1", "beta", other_annotator.pk),
    ]
    assert {(row["prompt"], row["margin"], row["control"]) for row in rows} == {("Question 1?", 1.0, "pw")}
    for row in rows:
        assert_trl_preference(row, conversational=False)


def test_the_consensus_stands_in_for_the_annotations_unless_all_are_asked_for(manager, annotator, other_annotator, tmp_path):
    project, (task,) = genai_project(manager, [annotator, other_annotator], PAIRWISE_CONFIG, [pair_task(1)])
    accepted(submit(annotator, task, [pairwise("right")]))
    accepted(submit(other_annotator, task, [pairwise("left")]))
    Task.objects.filter(pk=task.pk).update(consensus_result=[pairwise("right")], agreement=0.5, consensus_method="majority")

    final = load(body_of(export(manager, project, exportType="PREFERENCE_JSONL")), tmp_path)
    every = [json.loads(line) for line in body_of(export(manager, project, exportType="PREFERENCE_JSONL", annotations="all")).splitlines()]
    agreed = body_of(export(manager, project, exportType="PREFERENCE_JSONL", min_agreement=0.9))

    assert [(row["chosen"], row["origin"], row["agreement"]) for row in final] == [("Answer B1", "consensus", 0.5)]
    assert [(row["chosen"], row["origin"]) for row in every] == [("Answer B1", "annotation"), ("Answer A1", "annotation")]
    assert agreed == b""


def test_a_dialogue_prompt_gives_trls_conversational_form(manager, annotator, tmp_path):
    task = {"dialogue": DIALOGUE, "response_a": "Paris.", "response_b": "Lyon.", "model_a": "alpha", "model_b": "beta"}
    project, (imported,) = genai_project(manager, [annotator], DIALOGUE_CONFIG, [task])
    accepted(submit(annotator, imported, [pairwise("left")]))

    [row] = load(body_of(export(manager, project, exportType="PREFERENCE_JSONL")), tmp_path)

    assert row["prompt"] == DIALOGUE
    assert row["chosen"] == [{"role": "assistant", "content": "Paris."}]
    assert row["rejected"] == [{"role": "assistant", "content": "Lyon."}]
    assert_trl_preference(row, conversational=True)


def list_task() -> dict:
    return {"prompt": "Name a prime.", "responses": [
        {"id": "r1", "title": "alpha", "body": "Four"}, {"id": "r2", "title": "beta", "body": "Two"},
        {"id": "r3", "title": "gamma", "body": "Nine", "model": "gamma-2"},
    ]}


def test_a_ranking_gives_every_implied_pair_or_only_best_against_worst(manager, annotator, tmp_path):
    project, (task,) = genai_project(manager, [annotator], RANKER_CONFIG, [list_task()])
    accepted(submit(annotator, task, [ranking("r2", "r1", "r3"), rating("quality", "responses", 6, "r2")]))

    every = load(body_of(export(manager, project, exportType="PREFERENCE_JSONL")), tmp_path / "all")
    extremes = load(body_of(export(manager, project, exportType="PREFERENCE_JSONL", ranking_pairs="best_worst")), tmp_path / "bw")

    assert [(row["chosen"], row["rejected"], row["margin"]) for row in every] == [
        ("Two", "Four", 1.0), ("Two", "Nine", 2.0), ("Four", "Nine", 1.0)]  # the rating makes no pairs beside a Ranker
    assert [(row["chosen"], row["rejected"], row["chosen_model"], row["rejected_model"]) for row in extremes] == [
        ("Two", "Nine", "beta", "gamma-2")]


def test_ratings_rated_apart_give_pairs_higher_over_lower(manager, annotator, other_annotator, tmp_path):
    project, (apart, level) = genai_project(manager, [annotator, other_annotator], RATING_CONFIG, [pair_task(1), pair_task(2)])
    accepted(submit(annotator, apart, [rating("helpful_a", "a", 2), rating("helpful_b", "b", 5)]))
    accepted(submit(annotator, level, [rating("helpful_a", "a", 3), rating("helpful_b", "b", 3)]))

    [row] = load(body_of(export(manager, project, exportType="PREFERENCE_JSONL")), tmp_path)

    assert (row["task_id"], row["chosen"], row["rejected"], row["margin"], row["control"]) == (apart.pk, "Answer B1", "Answer A1", 3.0, "helpful")
    assert_trl_preference(row, conversational=False)


def test_a_config_without_what_a_format_needs_is_refused_naming_it(manager, annotator, text_project):
    no_prompt, _ = genai_project(manager, [annotator], """<View><Text name="a" value="$a"/><Text name="b" value="$b"/>
        <Pairwise name="pw" toName="a,b" allowTie="true"/></View>""", [{"a": "x", "b": "y"}])
    cases = [
        (text_project, "PREFERENCE_JSONL", "PREFERENCE_JSONL needs a <Pairwise>, <Ranker> or <Rating> control"),
        (text_project, "SFT_JSONL", "or a <TextArea> rewriting a response"),
        (text_project, "RATINGS_CSV", "RATINGS_CSV needs a <Rating> control"),
        (no_prompt, "PREFERENCE_JSONL", "needs a prompt: a <Text> or <Paragraphs> object that no <Pairwise>"),
    ]
    for project, export_type, message in cases:
        response = export(manager, project, exportType=export_type)
        assert response.status_code == 400 and message in response.json()["exportType"][0], response.json()
    wrong = export(manager, no_prompt, exportType="RATINGS_CSV", ranking_pairs="some")
    assert wrong.status_code == 400 and "ranking_pairs" in wrong.json()


# --- SFT_JSONL --------------------------------------------------------------------------------------------------

def test_sft_takes_the_rewrite_else_the_chosen_response_as_the_last_assistant_turn(manager, annotator, other_annotator, tmp_path):
    project, (first, second) = genai_project(manager, [annotator, other_annotator], PAIRWISE_CONFIG, [pair_task(1), pair_task(2)])
    accepted(submit(annotator, first, [pairwise("right"), rewrite("The ideal answer.")]))
    accepted(submit(other_annotator, first, [pairwise("right"), rewrite("  ")]))
    accepted(submit(annotator, second, [pairwise("tie")]))

    response = export(manager, project, exportType="SFT_JSONL")

    rows = load(body_of(response), tmp_path)
    assert [(row["task_id"], row["source"], row["model"]) for row in rows] == [(first.pk, "rewrite", "alpha"), (first.pk, "pairwise", "beta")]
    assert [row["messages"] for row in rows] == [
        [{"role": "user", "content": "Question 1?"}, {"role": "assistant", "content": "The ideal answer."}],
        [{"role": "user", "content": "Question 1?"}, {"role": "assistant", "content": "Answer B1"}],
    ]


def test_sft_from_a_ranking_is_its_top_response_after_the_dialogue(manager, annotator, tmp_path):
    config = RANKER_CONFIG.replace('<Text name="prompt" value="$prompt"/>', '<Paragraphs name="chat" value="$dialogue" nameKey="role" textKey="content"/>')
    project, (task,) = genai_project(manager, [annotator], config, [{**list_task(), "dialogue": DIALOGUE}])
    accepted(submit(annotator, task, [ranking("r2", "r1", "r3")]))

    [row] = load(body_of(export(manager, project, exportType="SFT_JSONL")), tmp_path)

    assert row["messages"] == [*DIALOGUE, {"role": "assistant", "content": "Two"}]
    assert (row["source"], row["control"], row["model"]) == ("ranking", "rank", "beta")


# --- RATINGS_CSV ------------------------------------------------------------------------------------------------

def test_ratings_csv_has_a_row_per_task_response_control_and_annotation(manager, annotator, other_annotator, tmp_path):
    project, (task,) = genai_project(manager, [annotator, other_annotator], RANKER_CONFIG, [list_task()])
    accepted(submit(annotator, task, [rating("quality", "responses", 6, "r2"), rating("quality", "responses", 2, "r1")]))
    accepted(submit(other_annotator, task, [ranking("r1", "r2", "r3"), rating("quality", "responses", 5, "r3")]))

    response = export(manager, project, exportType="RATINGS_CSV")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = body_of(response)
    rows = load(content, tmp_path, "csv")
    assert list(rows[0]) == ["task_id", "control", "object", "response", "model", "rating", "max_rating", "origin", "annotator", "agreement"]
    assert [(row["response"], row["model"], row["rating"], row["max_rating"], row["annotator"]) for row in rows] == [
        ("r2", "beta", 6, 7, annotator.pk), ("r1", "alpha", 2, 7, annotator.pk), ("r3", "gamma-2", 5, 7, other_annotator.pk)]
    assert {(row["task_id"], row["control"], row["object"], row["origin"]) for row in rows} == {(task.pk, "quality", "responses", "annotation")}
    assert len(list(csv.reader(io.StringIO(content.decode())))) == 4


def test_a_snapshot_keeps_the_ranking_pairs_choice(manager, annotator, tmp_path):
    project, (task,) = genai_project(manager, [annotator], RANKER_CONFIG, [list_task()])
    accepted(submit(annotator, task, [ranking("r2", "r1", "r3")]))
    snapshot = services.start_snapshot(project=project, user=manager, export_type="PREFERENCE_JSONL",
                                       filters=ExportFilters(), ranking_pairs="best_worst")

    # The job's body, as the worker runs it (the worker can't know this test's stand-in tags; progress unread).
    services.run_export(snapshot.job, lambda done, total=None: None)

    snapshot.refresh_from_db()
    assert snapshot.job.params["ranking_pairs"] == "best_worst"
    assert [(row["chosen"], row["rejected"]) for row in map(json.loads, snapshot.file.open("rb").read().splitlines())] == [("Two", "Nine")]
    assert snapshot.counts["pairs"] == 1
