"""Test-only stand-ins for the GenAI tags (<Pairwise>, <Ranker>, <Rating>, <List>, <Paragraphs>), with API.md's
results, so the export tests run before (and after) the real tag modules land: each is registered only when the
registry has no type of that tag, and forgotten again after the test."""
from projects.control_types import (ControlType, ObjectType, ResultError, control_type, object_type, register_control,
                                    register_object, unregister)


class Pairwise(ControlType):
    tag = "Pairwise"
    result_type = "pairwise"
    object_kinds = frozenset({"text"})
    js_module = "controls/pairwise.js"

    def validate_value(self, control, value, objects, task_data) -> None:
        if value.get("selected") not in ("left", "right", "tie"):
            raise ResultError("value.selected must be left, right or tie")

    def has_answer(self, value: dict) -> bool:
        return "selected" in value


class Ranker(ControlType):
    tag = "Ranker"
    result_type = "ranker"
    object_kinds = frozenset({"list"})
    js_module = "controls/ranker.js"


class Rating(ControlType):
    tag = "Rating"
    result_type = "rating"
    object_kinds = frozenset({"text", "list"})
    js_module = "controls/rating.js"

    def parse_attributes(self, element, name: str) -> dict:
        return {"options": {"max_rating": int(element.get("maxRating", "5"))}}


class ListObject(ObjectType):
    tag = "List"
    kind = "list"
    js_module = "objects/list.js"

    def validate_data(self, obj, value) -> None:
        if not isinstance(value, list):
            raise ResultError(f'task data "{obj.data_field}" must be a list of responses')


class Paragraphs(ObjectType):
    tag = "Paragraphs"
    kind = "paragraphs"
    js_module = "objects/paragraphs.js"

    def validate_data(self, obj, value) -> None:
        if not isinstance(value, list):
            raise ResultError(f'task data "{obj.data_field}" must be a list of messages')


STAND_INS = ((Pairwise, control_type, register_control), (Ranker, control_type, register_control),
             (Rating, control_type, register_control), (ListObject, object_type, register_object),
             (Paragraphs, object_type, register_object))


def register_missing_genai_types() -> list[str]:
    """Register the stand-ins whose tag has no type yet; answer their tags, for `forget`."""
    added = []
    for stand_in, find, register in STAND_INS:
        if find(stand_in.tag) is None:
            register(stand_in)
            added.append(stand_in.tag)
    return added


def forget(tags: list[str]) -> None:
    for tag in tags:
        unregister(tag)
