"""Label Studio's required="true": kept by the parser, shown to the page, and enforced on POSTed submissions only."""
import pytest

from frontend.labeling import page_config
from projects import services
from projects.label_config import LabelConfigError, ResultError, check_required_controls, parse_label_config
from projects.models import Annotation, Role
from tests.api_helpers import import_tasks, import_texts, sentiment, span, submit
from tests.conftest import TEXT_CONFIG, client_for

REQUIRED_CONFIG = """<View><Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" required="true"><Choice value="Positive"/><Choice value="Negative"/></Choices>
  <Labels name="entities" toName="text"><Label value="PER"/></Labels>
  <TextArea name="note" toName="text" required="false"/>
</View>"""


@pytest.fixture
def required_project(manager, annotator):
    project = services.create_project(creator=manager, title="Strict", label_config=REQUIRED_CONFIG)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    return project


def test_a_submission_without_a_required_control_gets_400_naming_it(annotator, required_project):
    (task,) = import_texts(required_project, "Alice wrote.")
    response = submit(annotator, task, [span("Alice wrote.", 0, 5, "PER")])
    assert response.status_code == 400
    assert "sentiment is required" in response.json()["result"][0]
    assert Annotation.objects.count() == 0
    assert submit(annotator, task, [sentiment("Negative")]).status_code == 201


def test_a_skip_and_an_import_are_not_held_to_required(annotator, required_project):
    (task,) = import_texts(required_project, "Unclear.")
    skipped = submit(annotator, task, [], was_cancelled=True, cancel_reason="unclear")
    assert skipped.status_code == 201 and skipped.json()["result"] == []
    (imported,) = import_tasks(required_project, [{"data": {"text": "Old."}, "annotations": [{"result": [span("Old.", 0, 3, "PER")]}]}])
    assert imported.annotations.get().result[0]["from_name"] == "entities"


def test_without_required_true_the_server_accepts_what_it_always_did(annotator, text_project):
    (task,) = import_texts(text_project, "Only a span.")
    assert submit(annotator, task, [span("Only a span.", 0, 4, "PER")]).status_code == 201  # single choice left out


def test_a_required_attribute_that_is_not_true_or_false_is_refused(staff):
    config = REQUIRED_CONFIG.replace('required="true"', 'required="yes"')
    response = client_for(staff).post("/api/projects/", {"title": "Bad", "label_config": config}, format="json")
    assert response.status_code == 400
    assert 'required="yes" must be "true" or "false"' in response.json()["label_config"][0]


def test_the_parser_keeps_required_and_the_page_defaults_single_choice_to_required():
    controls = parse_label_config(REQUIRED_CONFIG).controls
    assert {name: control.required for name, control in controls.items()} == {"sentiment": True, "entities": None, "note": False}
    page = page_config(REQUIRED_CONFIG)["controls"]
    assert {name: control["required"] for name, control in page.items()} == {"sentiment": True, "entities": False, "note": False}
    multiple = TEXT_CONFIG.replace('choice="single"', 'choice="multiple"')
    assert page_config(TEXT_CONFIG)["controls"]["sentiment"]["required"] is True  # no attribute, single choice
    assert page_config(multiple)["controls"]["sentiment"]["required"] is False
    optional = TEXT_CONFIG.replace('choice="single"', 'choice="single" required="false"')
    assert page_config(optional)["controls"]["sentiment"]["required"] is False


@pytest.mark.parametrize("result, answered", [
    ([sentiment("Positive")], True),
    ([{"from_name": "sentiment", "value": {"choices": []}}], False),
    ([{"from_name": "sentiment", "value": None}], False),
    (["junk", {"from_name": "note", "value": {"text": ["  "]}}], False),
])
def test_check_required_controls_counts_only_real_answers(result, answered):
    config = parse_label_config(REQUIRED_CONFIG)
    if answered:
        check_required_controls(config, result)
    else:
        with pytest.raises(ResultError, match="sentiment is required"):
            check_required_controls(config, result)


def test_a_required_text_area_needs_non_blank_text():
    config = parse_label_config(REQUIRED_CONFIG.replace('required="false"', 'required="true"'))
    with pytest.raises(ResultError, match="note is required"):
        check_required_controls(config, [sentiment("Positive"), {"from_name": "note", "value": {"text": [" "]}}])
    check_required_controls(config, [sentiment("Positive"), {"from_name": "note", "value": {"text": ["ok"]}}])


def test_an_unknown_required_value_is_a_config_error():
    with pytest.raises(LabelConfigError):
        parse_label_config(REQUIRED_CONFIG.replace('required="false"', 'required=""'))
