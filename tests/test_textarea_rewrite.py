"""<TextArea> as a rewrite: its value (a task field's text, or literal text), placeholder and rows, a pre-fill
naming no task field refused at import, and a rewrite submitted through the API read back from SFT_JSONL."""
import json

import pytest

from frontend.labeling import page_config
from projects.label_config import ResultError, parse_label_config, validate_task_data
from projects.models import Project
from tests.export_helpers import body_of, export

REWRITE_CONFIG = """<View><Text name="prompt" value="$prompt"/>
  <Text name="a" value="$response_a"/><Text name="b" value="$response_b"/><Pairwise name="pw" toName="a,b"/>
  <TextArea name="rewrite" toName="a" value="$response_a" placeholder="Make this the ideal answer" rows="8"
            required="true"/></View>"""
TASK = {"prompt": "Capital of France?", "response_a": "Paris, I think.", "response_b": "Lyon.",
        "model_a": "alpha", "model_b": "beta"}


def textarea_config(attributes: str) -> str:
    return f'<View><Text name="a" value="$response_a"/><TextArea name="rewrite" toName="a" {attributes}/></View>'


def test_value_placeholder_and_rows_reach_the_page():
    options = page_config(REWRITE_CONFIG)["controls"]["rewrite"]["options"]
    assert options == {"value_field": "response_a", "value_text": "", "placeholder": "Make this the ideal answer", "rows": 8}


def test_literal_value_and_defaults():
    literal = parse_label_config(textarea_config('value="Start here."')).controls["rewrite"].options
    assert literal == {"value_field": None, "value_text": "Start here.", "placeholder": "", "rows": 3}
    assert parse_label_config(textarea_config("")).controls["rewrite"].options["value_field"] is None


def test_the_focus_key_is_left_to_the_textarea():
    with_choices = REWRITE_CONFIG.replace("</View>", '<Choices name="topic" toName="a">'
                                          + "".join(f'<Choice value="c{n}"/>' for n in range(6)) + "</Choices></View>")
    keys = [entry["key"] for entry in page_config(with_choices)["controls"]["topic"]["values"]]
    assert "e" not in keys and "d" not in keys  # E focuses the textarea, D toggles the pairwise diff


@pytest.mark.parametrize("attributes, message", [
    ('rows="0"', '<TextArea name="rewrite"> rows="0" must be a whole number from 1 to 40'),
    ('rows="many"', '<TextArea name="rewrite"> rows="many" must be a whole number from 1 to 40'),
    ('value="$"', '<TextArea name="rewrite"> value="$" must name a task field like "$response_a"'),
], ids=["rows zero", "rows not a number", "value naming nothing"])
def test_a_bad_attribute_is_refused_naming_it(api, staff, attributes, message):
    response = api(staff).post("/api/projects/", {"title": "P", "label_config": textarea_config(attributes)})
    assert response.status_code == 400
    assert response.json()["label_config"] == [message]


def test_task_data_must_hold_the_field_the_prefill_names():
    config = parse_label_config(REWRITE_CONFIG.replace('value="$response_a" placeholder', 'value="$draft" placeholder'))
    validate_task_data(config, {**TASK, "draft": "A draft."})
    with pytest.raises(ResultError, match='task data has no "draft" field, which <TextArea name="rewrite"> needs for its pre-fill'):
        validate_task_data(config, TASK)
    with pytest.raises(ResultError, match='task data "draft" must be a string'):
        validate_task_data(config, {**TASK, "draft": ["not", "text"]})


def create_project(api, staff, annotator, config: str = REWRITE_CONFIG) -> int:
    created = api(staff).post("/api/projects/", {"title": "Rewrites", "label_config": config})
    assert created.status_code == 201, created.json()
    project_id = created.json()["id"]
    added = api(staff).post(f"/api/projects/{project_id}/members/", {"user": annotator.pk, "role": "annotator"})
    assert added.status_code in (200, 201), added.json()
    return project_id


@pytest.mark.django_db
def test_import_refuses_a_task_without_the_prefilled_field_naming_it(api, staff, annotator):
    config = REWRITE_CONFIG.replace('value="$response_a" placeholder', 'value="$draft" placeholder')
    project_id = create_project(api, staff, annotator, config)
    response = api(staff).post(f"/api/projects/{project_id}/import", [TASK], format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == ('request-body.json: task 1: task data has no "draft" field, which '
                                         '<TextArea name="rewrite"> needs for its pre-fill (value="$draft")')


@pytest.mark.django_db
def test_a_rewrite_submitted_through_the_api_is_the_sft_examples_last_assistant_turn(api, staff, annotator, tmp_path):
    project_id = create_project(api, staff, annotator)
    assert api(staff).post(f"/api/projects/{project_id}/import", [TASK], format="json").status_code == 201
    task = api(annotator).get(f"/api/projects/{project_id}/next/").json()
    assert task["data"]["response_a"] == "Paris, I think."  # what the page pre-fills the rewrite with
    rewrite = {"from_name": "rewrite", "to_name": "a", "type": "textarea", "value": {"text": ["Paris."]}}
    chosen = {"from_name": "pw", "to_name": "a,b", "type": "pairwise", "value": {"selected": "left"}}
    submitted = api(annotator).post(f"/api/tasks/{task['id']}/annotations/", {"result": [chosen, rewrite]}, format="json")
    assert submitted.status_code == 201, submitted.json()

    lines = body_of(export(staff, project_from(project_id), exportType="SFT_JSONL")).splitlines()

    [row] = [json.loads(line) for line in lines]
    assert row["messages"] == [{"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Paris."}]
    assert (row["source"], row["control"], row["model"]) == ("rewrite", "rewrite", "alpha")


@pytest.mark.django_db
def test_a_required_rewrite_left_out_is_refused(api, staff, annotator):
    project_id = create_project(api, staff, annotator)
    api(staff).post(f"/api/projects/{project_id}/import", [TASK], format="json")
    task = api(annotator).get(f"/api/projects/{project_id}/next/").json()
    chosen = {"from_name": "pw", "to_name": "a,b", "type": "pairwise", "value": {"selected": "left"}}
    response = api(annotator).post(f"/api/tasks/{task['id']}/annotations/", {"result": [chosen]}, format="json")
    assert response.status_code == 400
    assert "rewrite is required" in json.dumps(response.json())


def project_from(project_id: int) -> Project:
    return Project.objects.get(pk=project_id)
