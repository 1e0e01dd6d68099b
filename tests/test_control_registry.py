"""The registry of control and object types: the subset is registered, a new type works end to end from its own
module alone (a throwaway <Stars> defined here), controls that name several objects, and the layering."""
import ast
import sys
from pathlib import Path

import pytest
from django.conf import settings

from exports.engine.results import control_value
from frontend.labeling import page_config
from projects.control_types import (ControlType, ReviewPiece, control_type, control_type_for_result, is_number,
                                    item_value, object_type, register_control, registered_controls,
                                    registered_objects, unregister)
from projects.label_config import (LabelConfigError, ResultError, check_required_controls, parse_label_config,
                                   validate_result)
from projects.models import Task
from quality.consensus import controls_of
from quality.engine import MergeOptions, TaskConsensus
from quality.engine.outcome import mean_pairwise, result_item
from quality.merging import aggregate_task_result
from quality.review_page import describe

ROOT = Path(settings.BASE_DIR)
RATING_CONFIG = """<View><Text name="answer" value="$text"/>
  <Stars name="score" toName="answer" maxRating="5" required="true"/></View>"""
TWO_TEXTS = """<View><Text name="a" value="$first"/><Text name="b" value="$second"/>
  <Choices name="better" toName="a,b"><Choice value="A"/><Choice value="B"/></Choices></View>"""
TASK = {"text": "The answer to rate."}


class Stars(ControlType):
    """A rating from 1 to maxRating stars, shaped like Label Studio's <Rating> (which controls/rating.py is)."""

    tag = "Stars"
    result_type = "stars"
    object_kinds = frozenset({"text", "image"})
    js_module = "controls/stars.js"

    def parse_attributes(self, element, name: str) -> dict:
        raw = element.get("maxRating", "5")
        if not raw.isdigit() or int(raw) < 1:
            raise LabelConfigError(f'<Stars name="{name}"> maxRating="{raw}" must be a whole number from 1')
        return {"options": {"max_rating": int(raw)}}

    def validate_value(self, control, value, objects, task_data) -> None:
        rating = value.get("rating")
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= control.options["max_rating"]:
            raise ResultError(f"value.rating must be a whole number from 1 to {control.options['max_rating']}")

    def has_answer(self, value: dict) -> bool:
        return bool(value.get("rating"))

    def merge(self, control, annotations, options: MergeOptions) -> TaskConsensus:
        ratings = [item["value"]["rating"] for _, items in annotations for item in items[:1]]
        if not ratings:
            return TaskConsensus([], None, None, "median", {}, len(annotations))
        median = sorted(ratings)[len(ratings) // 2]
        agreement = mean_pairwise(ratings, lambda first, second: float(first == second))
        item = result_item(control, "stars", {"rating": median}, seed=options.seed, index=0)
        return TaskConsensus([item], agreement, ratings.count(median) / len(ratings), "median", {}, len(annotations))

    def review_pieces(self, item: dict) -> list[ReviewPiece]:
        return [ReviewPiece("answers", item.get("from_name", ""), [f"{item_value(item).get('rating')} stars"])]

    def table_value(self, control, items: list[dict]):
        return items[0]["value"].get("rating")


@pytest.fixture
def rating_type():
    register_control(Stars)
    yield control_type("Stars")
    unregister("Stars")


def rating(stars: int, to_name: str = "answer") -> dict:
    return {"from_name": "score", "to_name": to_name, "type": "stars", "value": {"rating": stars}}


# --- the subset is registered ----------------------------------------------------------------------------------

def test_every_control_and_object_of_the_subset_is_registered_with_its_modules():
    controls = registered_controls()
    assert {tag: known.result_type for tag, known in controls.items()}.items() >= {
        "Choices": "choices", "Labels": "labels", "RectangleLabels": "rectanglelabels", "TextArea": "textarea",
        "Ranker": "ranker", "Rating": "rating", "Pairwise": "pairwise"}.items()
    assert {tag: known.js_module for tag, known in controls.items()}.items() >= {
        "Choices": "controls/choices.js", "Labels": "controls/labels.js", "RectangleLabels": "controls/rectanglelabels.js",
        "TextArea": "controls/textarea.js", "Ranker": "controls/ranker.js", "Rating": "controls/rating.js",
        "Pairwise": "controls/pairwise.js"}.items()
    assert {tag: (known.kind, known.js_module) for tag, known in registered_objects().items()}.items() >= {
        "Image": ("image", "objects/image.js"), "Text": ("text", "objects/text.js"), "List": ("list", "objects/list.js"),
        "Paragraphs": ("paragraphs", "objects/paragraphs.js")}.items()
    assert control_type_for_result("RectangleLabels") is controls["RectangleLabels"]
    assert object_type("Image").assets and object_type("Paragraphs").assets and not object_type("Text").assets


def test_every_module_of_the_controls_package_is_loaded_without_a_list():
    modules = {path.stem for path in (ROOT / "controls").glob("*.py")} - {"__init__", "apps"}
    assert modules <= {name.removeprefix("controls.") for name in sys.modules if name.startswith("controls.")}


# --- a new type needs its own module and nothing else ----------------------------------------------------------

def test_a_new_control_type_parses_with_its_own_attributes(rating_type):
    score = parse_label_config(RATING_CONFIG).controls["score"]
    assert (score.tag, score.result_type, score.to_name, score.required) == ("Stars", "stars", "answer", True)
    assert score.options == {"max_rating": 5}
    with pytest.raises(LabelConfigError, match='maxRating="lots"'):
        parse_label_config(RATING_CONFIG.replace('maxRating="5"', 'maxRating="lots"'))
    with pytest.raises(LabelConfigError, match="<Stars> cannot be inside"):
        parse_label_config(RATING_CONFIG.replace('required="true"/>', '><Stars name="x" toName="answer"/></Stars>'))


def test_without_its_module_the_tag_is_unknown():
    with pytest.raises(LabelConfigError, match="<Stars> is not supported"):
        parse_label_config(RATING_CONFIG)


def test_a_new_control_type_validates_results_and_says_what_counts_as_an_answer(rating_type):
    config = parse_label_config(RATING_CONFIG)
    validate_result(config, TASK, [rating(4)])
    with pytest.raises(ResultError, match=r"result\[0\]: value.rating must be a whole number from 1 to 5"):
        validate_result(config, TASK, [rating(6)])
    check_required_controls(config, [rating(2)])
    with pytest.raises(ResultError, match="score is required"):
        check_required_controls(config, [])


def test_a_new_control_type_aggregates_shows_on_review_and_exports(rating_type):
    config = parse_label_config(RATING_CONFIG)
    merged = aggregate_task_result(controls_of(config), [(1, [rating(4)]), (2, [rating(4)]), (3, [rating(2)])], task_key=9)
    assert [item["value"] for item in merged.result] == [{"rating": 4}]
    assert merged.agreement == pytest.approx(1 / 3) and merged.method == "median"
    shown = describe(merged.result, TASK, config.objects)
    assert shown["answers"] == {"score": ["4 stars"]}
    assert [segment.text for segment in shown["objects"][0]["segments"]] == [TASK["text"]]
    assert control_value({"result": [rating(3)]}, config.controls["score"]) == 3


def test_a_new_control_type_gets_its_page_module(rating_type):
    page = page_config(RATING_CONFIG)
    assert page["controls"]["score"]["module"] == "/static/frontend/js/controls/stars.js"
    assert page["layout"][-1] == {"kind": "control", "name": "score"}


@pytest.mark.django_db
def test_a_new_control_type_works_through_the_api(rating_type, api, staff, annotator):
    response = api(staff).post("/api/projects/", {"title": "Ratings", "label_config": RATING_CONFIG})
    assert response.status_code == 201, response.json()
    project_id = response.json()["id"]
    assert api(staff).post(f"/api/projects/{project_id}/members/", {"user": annotator.pk, "role": "annotator"}).status_code == 201
    task = Task.objects.create(project_id=project_id, data=TASK)
    refused = api(annotator).post(f"/api/tasks/{task.pk}/annotations/", {"result": [rating(9)]})
    assert refused.status_code == 400 and "value.rating" in refused.json()["result"][0]
    stored = api(annotator).post(f"/api/tasks/{task.pk}/annotations/", {"result": [rating(5)]})
    assert stored.status_code == 201, stored.json()


# --- toName="a,b" ----------------------------------------------------------------------------------------------

def test_a_control_may_name_several_objects():
    better = parse_label_config(TWO_TEXTS).controls["better"]
    assert better.to_names == ("a", "b") and better.to_name == "a,b"
    assert page_config(TWO_TEXTS)["controls"]["better"]["toName"] == "a,b"


def test_results_of_a_multi_object_control_carry_the_joined_names():
    config = parse_label_config(TWO_TEXTS)
    data = {"first": "one", "second": "two"}
    validate_result(config, data, [{"from_name": "better", "to_name": "a,b", "type": "choices", "value": {"choices": ["B"]}}])
    with pytest.raises(ResultError, match="to_name 'a' does not match better's toName 'a,b'"):
        validate_result(config, data, [{"from_name": "better", "to_name": "a", "type": "choices", "value": {"choices": ["B"]}}])


@pytest.mark.parametrize("to_name, message", [
    ("a,zzz", '<Choices name="better"> toName="zzz" names no <Image>, '),  # then every other object tag
    ("a,a", 'toName="a,a" names "a" twice'),
])
def test_a_bad_name_in_a_multi_object_toname_is_named(to_name, message):
    with pytest.raises(LabelConfigError) as refused:
        parse_label_config(TWO_TEXTS.replace('toName="a,b"', f'toName="{to_name}"'))
    assert message in str(refused.value)


def test_every_named_object_must_suit_the_control():
    config = '<View><Text name="t" value="$t"/><Image name="i" value="$i"/><Labels name="l" toName="t,i"><Label value="x"/></Labels></View>'
    with pytest.raises(LabelConfigError, match='<Labels> cannot label <Image name="i">'):
        parse_label_config(config)


@pytest.mark.django_db
def test_an_unknown_name_in_toname_is_a_400_naming_it(api, staff):
    config = TWO_TEXTS.replace('toName="a,b"', 'toName="a,zzz"')
    response = api(staff).post("/api/projects/", {"title": "P", "label_config": config})
    assert response.status_code == 400
    assert 'toName="zzz" names no <Image>, ' in response.json()["label_config"][0]


# --- layering --------------------------------------------------------------------------------------------------

def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module and not node.level}


def test_the_core_never_imports_the_control_modules():
    for path in (ROOT / "projects").rglob("*.py"):
        assert not any(name.split(".")[0] == "controls" for name in imported_modules(path)), path


def test_control_modules_use_only_the_core_and_the_pure_engines():
    allowed = ("projects.control_types", "projects.label_config", "quality.engine", "exports.engine", "dataclasses",
               "django.apps", "importlib", "pkgutil")
    for path in (ROOT / "controls").glob("*.py"):
        for name in imported_modules(path):
            assert name.startswith(allowed), f"{path.name} imports {name}"


def test_is_number_refuses_booleans_and_nan():
    assert is_number(1.5) and not is_number(True) and not is_number(float("nan"))
