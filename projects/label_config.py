"""Parse a project's Label Studio XML label config and validate annotation results against it.

Pure functions over plain data: no database, so both run in microseconds and are tested directly.
"""
from dataclasses import dataclass
from typing import Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from .control_types import (ControlTag, ControlType, LabelConfigError, ObjectTag, ObjectType, ResultError,
                            control_type, is_number, object_type, registered_controls, registered_objects)

__all__ = [
    "ControlTag", "LabelConfig", "LabelConfigError", "ObjectTag", "ResultError", "check_required_controls",
    "parse_label_config", "task_presentation", "validate_result", "validate_task_data",
]
LAYOUT_TAGS = {"View", "Header"}


@dataclass(frozen=True)
class LabelConfig:
    objects: dict[str, ObjectTag]
    controls: dict[str, ControlTag]

    @property
    def data_fields(self) -> set[str]:
        return {obj.data_field for obj in self.objects.values()}

    def data_fields_of_kind(self, kind: str) -> list[str]:
        return [obj.data_field for obj in self.objects.values() if obj.kind == kind]


def parse_label_config(xml: str) -> LabelConfig:
    """Parse and check a label config; raise LabelConfigError naming the offending tag or attribute."""
    if not xml or not xml.strip():
        raise LabelConfigError("label_config is empty: it must be a <View> with at least one object and one control")
    try:
        root = ElementTree.fromstring(xml, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise LabelConfigError(f"label_config may not use DTDs or entities ({exc.__class__.__name__})") from None
    except ElementTree.ParseError as exc:
        raise LabelConfigError(f"label_config is not well-formed XML: {exc}") from None
    if root.tag != "View":
        raise LabelConfigError(f"label_config must start with <View>, not <{root.tag}>")
    objects: dict[str, ObjectTag] = {}
    controls: dict[str, ControlTag] = {}
    read_by_controls: set[int] = set()  # ids of the <Choice>/<Label> elements a control has parsed
    object_types, control_types = registered_objects(), registered_controls()
    value_tags = _value_tags(control_types)
    for element in root.iter():  # document order: a control comes before its children
        _check_tag_known(element.tag, object_types, control_types, value_tags)
        if element.tag in object_types:
            obj = _parse_object(element, object_types[element.tag])
            _check_name_unique(obj.name, objects, controls)
            objects[obj.name] = obj
        elif element.tag in control_types:
            control = _parse_control(element, control_types[element.tag])
            _check_name_unique(control.name, objects, controls)
            controls[control.name] = control
            read_by_controls.update(id(child) for child in element)
        elif element.tag in value_tags and id(element) not in read_by_controls:
            owners = " or ".join(f"<{owner}>" for owner in value_tags[element.tag])
            raise LabelConfigError(f"<{element.tag} value=\"{element.get('value', '')}\"> must be inside {owners}")
    _check_links(objects, controls)
    return LabelConfig(objects=objects, controls=controls)


def _value_tags(control_types: dict[str, ControlType]) -> dict[str, tuple[str, ...]]:
    """<Choice>/<Label> -> the controls they may sit in; anywhere else they would be silently ignored."""
    owners: dict[str, tuple[str, ...]] = {}
    for tag, known in control_types.items():
        if known.value_tag:
            owners[known.value_tag] = (*owners.get(known.value_tag, ()), tag)
    return owners


def _check_tag_known(tag: str, *known_tags) -> None:
    supported = sorted(LAYOUT_TAGS.union(*known_tags))
    if tag not in supported:
        raise LabelConfigError(f"<{tag}> is not supported in label_config (supported: {', '.join(supported)})")


def _check_name_unique(name: str, objects: dict, controls: dict) -> None:
    if name in objects or name in controls:
        raise LabelConfigError(f'name="{name}" is used by more than one tag; names must be unique')


def _required_attribute(element, attribute: str) -> str:
    value = (element.get(attribute) or "").strip()
    if not value:
        raise LabelConfigError(f"<{element.tag}> needs a {attribute}=\"...\" attribute")
    return value


def _parse_object(element, known: ObjectType) -> ObjectTag:
    name = _required_attribute(element, "name")
    value = _required_attribute(element, "value")
    if not value.startswith("$") or len(value) < 2:
        raise LabelConfigError(f'<{element.tag} name="{name}"> value must name a task field like "$text", not "{value}"')
    own_attributes = known.parse_attributes(element, name)
    return ObjectTag(name=name, kind=known.kind, data_field=value[1:], tag=known.tag, **own_attributes)


def _parse_control(element, known: ControlType) -> ControlTag:
    name = _required_attribute(element, "name")
    to_names = _parse_to_names(element, name)
    values, hotkeys = _parse_values(element, name, known)
    own_attributes = known.parse_attributes(element, name)
    required = _parse_required(element, name)
    return ControlTag(name=name, tag=element.tag, result_type=known.result_type, to_names=to_names, values=values,
                      hotkeys=hotkeys, required=required, **own_attributes)


def _parse_to_names(element, name: str) -> tuple[str, ...]:
    """toName="a,b": a control may label several objects; each is named once."""
    raw = _required_attribute(element, "toName")
    to_names = tuple(part.strip() for part in raw.split(","))
    for part in to_names:
        if to_names.count(part) > 1:
            raise LabelConfigError(f'<{element.tag} name="{name}"> toName="{raw}" names "{part}" twice')
    return to_names


def _parse_values(element, name: str, known: ControlType) -> tuple[tuple[str, ...], dict[str, str]]:
    values: list[str] = []
    hotkeys: dict[str, str] = {}
    value_tag = known.value_tag
    for child in element:
        if child.tag != value_tag:
            raise LabelConfigError(f"<{child.tag}> cannot be inside <{element.tag} name=\"{name}\">")
        value = _required_attribute(child, known.value_attribute)
        if value in values:
            raise LabelConfigError(f'<{element.tag} name="{name}"> lists "{value}" twice')
        values.append(value)
        if child.get("hotkey"):
            hotkeys[value] = child.get("hotkey")
    if value_tag and not values and not known.values_optional:
        raise LabelConfigError(f"<{element.tag} name=\"{name}\"> needs at least one <{value_tag} value=\"...\"/>")
    return tuple(values), hotkeys


def _parse_required(element, name: str) -> bool | None:
    raw = element.get("required")
    if raw is None:
        return None
    if raw.strip().lower() not in {"true", "false"}:
        raise LabelConfigError(f'<{element.tag} name="{name}"> required="{raw}" must be "true" or "false"')
    return raw.strip().lower() == "true"


def _check_links(objects: dict[str, ObjectTag], controls: dict[str, ControlTag]) -> None:
    object_tags = _listed(registered_objects(), "or")
    if not objects:
        raise LabelConfigError(f"label_config needs an object to label: {object_tags}")
    if not controls:
        raise LabelConfigError(f"label_config needs a control: {_listed(registered_controls(), 'or')}")
    for control in controls.values():
        allowed = control_type(control.tag).object_kinds
        for to_name in control.to_names:
            target = objects.get(to_name)
            if target is None:
                raise LabelConfigError(f'<{control.tag} name="{control.name}"> toName="{to_name}" names no {object_tags}')
            if target.kind not in allowed:
                raise LabelConfigError(f"<{control.tag}> cannot label <{target.tag} name=\"{target.name}\">")
            object_type(target.tag).check_control(target, control, control_type(control.tag))
        control_type(control.tag).check_targets(control, [objects[to_name] for to_name in control.to_names])


def _listed(types: dict, last_word: str) -> str:
    """"<A>, <B> or <C>"."""
    tags = [f"<{tag}>" for tag in types]
    return tags[0] if len(tags) == 1 else f"{', '.join(tags[:-1])} {last_word} {tags[-1]}"


def task_presentation(config: LabelConfig, task_id: int, user_id: int) -> dict[str, dict]:
    """{control name: how the page shows it} for the controls whose type varies the task's presentation per
    annotator; empty when none does."""
    shown = {name: control_type(control.tag).presentation(control, task_id, user_id)
             for name, control in config.controls.items()}
    return {name: presentation for name, presentation in shown.items() if presentation is not None}


# Chatbot Arena's columns: the model of the first and of the second response a <Pairwise> compares.
PAIR_POSITION_KEYS = ("model_a", "model_b")
MODEL_KEY_PREFIX, MODEL_KEY_SUFFIX = "model_", "_model"  # the shapes of every key model_data_keys names
LIST_ITEM_MODEL_KEYS = ("model", "title")  # the keys of a <List> item that may name its model, in precedence


def model_data_keys(config: LabelConfig) -> dict[str, tuple[str, ...]]:
    """Per object, the task data keys that may name the model that wrote it, in precedence: `model_<object name>`,
    `<data field>_model`, then `model_a`/`model_b` by its position in the first <Pairwise> naming it. The one rule
    the leaderboard and the GenAI exports both read."""
    positions: dict[str, str] = {}
    for control in config.controls.values():
        if control.result_type == "pairwise":
            for name, key in zip(control.to_names, PAIR_POSITION_KEYS):
                positions.setdefault(name, key)
    return {
        obj.name: (f"{MODEL_KEY_PREFIX}{obj.name}", f"{obj.data_field}{MODEL_KEY_SUFFIX}",
                   *([positions[obj.name]] if obj.name in positions else []))
        for obj in config.objects.values()
    }


def response_models(data: Any) -> dict | None:
    """What in a task's data can name the model that wrote a response: its keys of model_data_keys' shapes
    (`model_*`, `*_model`), and each list holding objects cut to its items' id, model and title (non-objects kept
    as null, in place). Stored beside the data (Task.response_models) so the leaderboard reads a few dozen bytes,
    not the whole compressed data; it does not depend on the label config, so a config change leaves it right.
    None when there is nothing of the kind."""
    if not isinstance(data, dict):
        return None
    found: dict[str, Any] = {}
    for key, value in data.items():
        if key.startswith(MODEL_KEY_PREFIX) or key.endswith(MODEL_KEY_SUFFIX):
            found[key] = value
        elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
            found[key] = [{name: item[name] for name in ("id", *LIST_ITEM_MODEL_KEYS) if name in item}
                          if isinstance(item, dict) else None for item in value]
    return found or None


def list_item_model(item: dict) -> Any:
    """The model a <List> item names: its `model`, else its `title` (the first that is not missing or empty).
    The one rule the leaderboard and the GenAI exports both read."""
    return next((item[key] for key in LIST_ITEM_MODEL_KEYS if item.get(key) not in (None, "")), None)


def validate_task_data(config: LabelConfig, data: dict) -> None:
    """Check that a task's data holds every field the config's objects and controls read, with the right type."""
    if not isinstance(data, dict):
        raise ResultError(f"task data must be an object, not {type(data).__name__}")
    for obj in config.objects.values():
        if obj.data_field not in data:
            raise ResultError(f'task data has no "{obj.data_field}" field, which <{obj.tag} name="{obj.name}"> needs')
        object_type(obj.tag).validate_data(obj, data[obj.data_field])
    for control in config.controls.values():
        control_type(control.tag).validate_task_data(control, data)


def validate_result(config: LabelConfig, task_data: dict, result) -> None:
    """Check a Label Studio result list item by item; raise ResultError saying which item and why."""
    if not isinstance(result, list):
        raise ResultError("result must be a list of result items")
    for index, item in enumerate(result):
        try:
            _validate_item(config, task_data, item)
        except ResultError as exc:
            raise ResultError(f"result[{index}]: {exc}") from None
    for control in config.controls.values():
        own_items = [item for item in result if item.get("from_name") == control.name]
        if own_items:
            objects = [config.objects[to_name] for to_name in control.to_names]
            control_type(control.tag).validate_items(control, own_items, objects, task_data)


def check_required_controls(config: LabelConfig, result: list) -> None:
    """Refuse a result that leaves out a control the config marks required="true", naming the first one missing.

    Only the config's explicit word counts here: the labeling page also treats a single-choice <Choices> as
    required by default, but API clients and imports keep Label Studio's rule (required only when it says so)."""
    answered = {item.get("from_name") for item in result if _has_answer(config, item)}
    for control in config.controls.values():
        if control.required and control.name not in answered:
            raise ResultError(f'{control.name} is required (required="true" in the label config) and has no answer')


def _has_answer(config: LabelConfig, item) -> bool:
    """A result item of one of the config's controls whose value says something, as its control type reads it."""
    if not isinstance(item, dict) or not isinstance(item.get("value"), dict):
        return False
    control = config.controls.get(item.get("from_name")) if isinstance(item.get("from_name"), str) else None
    return control is not None and control_type(control.tag).has_answer(item["value"])


def _validate_item(config: LabelConfig, task_data: dict, item) -> None:
    if not isinstance(item, dict):
        raise ResultError("must be an object")
    from_name = item.get("from_name")
    control = config.controls.get(from_name) if isinstance(from_name, str) else None
    if control is None:
        raise ResultError(f"from_name {from_name!r} is not a control of this project ({', '.join(sorted(config.controls))})")
    if item.get("to_name", control.to_name) != control.to_name:
        raise ResultError(f"to_name {item.get('to_name')!r} does not match {control.name}'s toName {control.to_name!r}")
    result_type = item.get("type", control.result_type)
    if not isinstance(result_type, str) or result_type.lower() != control.result_type:
        raise ResultError(f"type {result_type!r} does not match {control.tag} (expected {control.result_type!r})")
    value = item.get("value")
    if not isinstance(value, dict):
        raise ResultError("value must be an object")
    if "score" in item and item["score"] is not None and not is_number(item["score"]):
        raise ResultError("score must be a number")
    objects = [config.objects[to_name] for to_name in control.to_names]
    control_type(control.tag).validate_value(control, value, objects, task_data)
