"""Parse a project's Label Studio XML label config and validate annotation results against it.

Pure functions over plain data: no database, so both run in microseconds and are tested directly.
"""
from dataclasses import dataclass, field

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

OBJECT_TAGS = {"Image": "image", "Text": "text"}
# control tag -> (result type, object kinds it may point at, child tag holding its values)
CONTROL_TAGS = {
    "Choices": ("choices", {"image", "text"}, "Choice"),
    "Labels": ("labels", {"text"}, "Label"),
    "RectangleLabels": ("rectanglelabels", {"image"}, "Label"),
    "TextArea": ("textarea", {"image", "text"}, None),
}
LAYOUT_TAGS = {"View", "Header"}
# <Choice>/<Label> -> the controls they may sit in; anywhere else they would be silently ignored.
VALUE_TAGS = {
    child: tuple(tag for tag, (_, _, owner_child) in CONTROL_TAGS.items() if owner_child == child)
    for _, _, child in CONTROL_TAGS.values()
    if child
}
SUPPORTED_TAGS = sorted(set(OBJECT_TAGS) | set(CONTROL_TAGS) | LAYOUT_TAGS | set(VALUE_TAGS))
# Box coordinates are percentages; allow rounding noise from clients that compute them from pixels.
PERCENT_TOLERANCE = 1e-6


class LabelConfigError(ValueError):
    """The label config is not valid XML or uses something Labeler does not support."""


class ResultError(ValueError):
    """An annotation or prediction result does not fit the project's label config or the task's data."""


@dataclass(frozen=True)
class ObjectTag:
    name: str
    kind: str  # "image" or "text"
    data_field: str  # the task data key named by value="$field"


@dataclass(frozen=True)
class ControlTag:
    name: str
    tag: str
    result_type: str
    to_name: str
    values: tuple[str, ...] = ()
    hotkeys: dict[str, str] = field(default_factory=dict)
    multiple: bool = False
    # Label Studio's required="true"/"false"; None when the config does not say (the page then decides).
    required: bool | None = None


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
    for element in root.iter():  # document order: a control comes before its children
        _check_tag_known(element.tag)
        if element.tag in OBJECT_TAGS:
            obj = _parse_object(element)
            _check_name_unique(obj.name, objects, controls)
            objects[obj.name] = obj
        elif element.tag in CONTROL_TAGS:
            control = _parse_control(element)
            _check_name_unique(control.name, objects, controls)
            controls[control.name] = control
            read_by_controls.update(id(child) for child in element)
        elif element.tag in VALUE_TAGS and id(element) not in read_by_controls:
            owners = " or ".join(f"<{owner}>" for owner in VALUE_TAGS[element.tag])
            raise LabelConfigError(f"<{element.tag} value=\"{element.get('value', '')}\"> must be inside {owners}")
    _check_links(objects, controls)
    return LabelConfig(objects=objects, controls=controls)


def _check_tag_known(tag: str) -> None:
    if tag not in SUPPORTED_TAGS:
        raise LabelConfigError(f"<{tag}> is not supported in label_config (supported: {', '.join(SUPPORTED_TAGS)})")


def _check_name_unique(name: str, objects: dict, controls: dict) -> None:
    if name in objects or name in controls:
        raise LabelConfigError(f'name="{name}" is used by more than one tag; names must be unique')


def _required_attribute(element, attribute: str) -> str:
    value = (element.get(attribute) or "").strip()
    if not value:
        raise LabelConfigError(f"<{element.tag}> needs a {attribute}=\"...\" attribute")
    return value


def _parse_object(element) -> ObjectTag:
    name = _required_attribute(element, "name")
    value = _required_attribute(element, "value")
    if not value.startswith("$") or len(value) < 2:
        raise LabelConfigError(f'<{element.tag} name="{name}"> value must name a task field like "$text", not "{value}"')
    return ObjectTag(name=name, kind=OBJECT_TAGS[element.tag], data_field=value[1:])


def _parse_control(element) -> ControlTag:
    name = _required_attribute(element, "name")
    to_name = _required_attribute(element, "toName")
    result_type, _, child_tag = CONTROL_TAGS[element.tag]
    values: list[str] = []
    hotkeys: dict[str, str] = {}
    for child in element:
        if child.tag != child_tag:
            raise LabelConfigError(f"<{child.tag}> cannot be inside <{element.tag} name=\"{name}\">")
        value = _required_attribute(child, "value")
        if value in values:
            raise LabelConfigError(f'<{element.tag} name="{name}"> lists "{value}" twice')
        values.append(value)
        if child.get("hotkey"):
            hotkeys[value] = child.get("hotkey")
    if child_tag and not values:
        raise LabelConfigError(f"<{element.tag} name=\"{name}\"> needs at least one <{child_tag} value=\"...\"/>")
    choice_mode = element.get("choice", "single")
    if element.tag == "Choices" and choice_mode not in {"single", "single-radio", "multiple"}:
        raise LabelConfigError(f'<Choices name="{name}"> choice="{choice_mode}" must be "single" or "multiple"')
    required = _parse_required(element, name)
    return ControlTag(
        name=name,
        tag=element.tag,
        result_type=result_type,
        to_name=to_name,
        values=tuple(values),
        hotkeys=hotkeys,
        multiple=element.tag == "Choices" and choice_mode == "multiple",
        required=required,
    )


def _parse_required(element, name: str) -> bool | None:
    raw = element.get("required")
    if raw is None:
        return None
    if raw.strip().lower() not in {"true", "false"}:
        raise LabelConfigError(f'<{element.tag} name="{name}"> required="{raw}" must be "true" or "false"')
    return raw.strip().lower() == "true"


def _check_links(objects: dict[str, ObjectTag], controls: dict[str, ControlTag]) -> None:
    if not objects:
        raise LabelConfigError("label_config needs an object to label: <Image> or <Text>")
    if not controls:
        raise LabelConfigError("label_config needs a control: <Choices>, <Labels>, <RectangleLabels> or <TextArea>")
    for control in controls.values():
        target = objects.get(control.to_name)
        if target is None:
            raise LabelConfigError(f'<{control.tag} name="{control.name}"> toName="{control.to_name}" names no <Image> or <Text>')
        allowed = CONTROL_TAGS[control.tag][1]
        if target.kind not in allowed:
            raise LabelConfigError(f"<{control.tag}> cannot label <{target.kind.capitalize()} name=\"{target.name}\">")


def validate_task_data(config: LabelConfig, data: dict) -> None:
    """Check that a task's data holds every field the config's objects read, with the right type."""
    if not isinstance(data, dict):
        raise ResultError(f"task data must be an object, not {type(data).__name__}")
    for obj in config.objects.values():
        if obj.data_field not in data:
            raise ResultError(f'task data has no "{obj.data_field}" field, which <{obj.kind.capitalize()} name="{obj.name}"> needs')
        if not isinstance(data[obj.data_field], str):
            raise ResultError(f'task data "{obj.data_field}" must be a string (text or an image URL)')


def validate_result(config: LabelConfig, task_data: dict, result) -> None:
    """Check a Label Studio result list item by item; raise ResultError saying which item and why."""
    if not isinstance(result, list):
        raise ResultError("result must be a list of result items")
    for index, item in enumerate(result):
        try:
            _validate_item(config, task_data, item)
        except ResultError as exc:
            raise ResultError(f"result[{index}]: {exc}") from None


def check_required_controls(config: LabelConfig, result: list) -> None:
    """Refuse a result that leaves out a control the config marks required="true", naming the first one missing.

    Only the config's explicit word counts here: the labeling page also treats a single-choice <Choices> as
    required by default, but API clients and imports keep Label Studio's rule (required only when it says so)."""
    answered = {item.get("from_name") for item in result if isinstance(item, dict) and _has_answer(item.get("value"))}
    for control in config.controls.values():
        if control.required and control.name not in answered:
            raise ResultError(f'{control.name} is required (required="true" in the label config) and has no answer')


def _has_answer(value) -> bool:
    """A result item's value says something: a non-empty choice/label list, or some non-blank text."""
    if not isinstance(value, dict):
        return False
    for key in ("choices", "labels", "rectanglelabels"):
        if value.get(key):
            return True
    texts = value.get("text")  # a TextArea's list of lines (a span's "text" is a string, and has labels anyway)
    return isinstance(texts, list) and any(isinstance(text, str) and text.strip() for text in texts)


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
    if "score" in item and item["score"] is not None and not _is_number(item["score"]):
        raise ResultError("score must be a number")
    check = {
        "choices": _check_choices,
        "labels": _check_span,
        "rectanglelabels": _check_box,
        "textarea": _check_textarea,
    }[control.result_type]
    check(control, value, config.objects[control.to_name], task_data)


def _check_label_values(control: ControlTag, labels, *, exactly_one: bool) -> None:
    if not isinstance(labels, list) or not labels or not all(isinstance(label, str) for label in labels):
        raise ResultError(f"value.{control.result_type} must be a non-empty list of strings")
    if exactly_one and len(labels) != 1:
        raise ResultError(f"{control.name} takes a single choice, got {len(labels)}")
    unknown = [label for label in labels if label not in control.values]
    if unknown:
        raise ResultError(f"{unknown[0]!r} is not a label of {control.name} ({', '.join(control.values)})")


def _check_choices(control: ControlTag, value: dict, obj: ObjectTag, task_data: dict) -> None:
    _check_label_values(control, value.get("choices"), exactly_one=not control.multiple)


def _check_span(control: ControlTag, value: dict, obj: ObjectTag, task_data: dict) -> None:
    _check_label_values(control, value.get("labels"), exactly_one=False)
    start, end = value.get("start"), value.get("end")
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        raise ResultError("value.start and value.end must be integers (character offsets)")
    text = task_data.get(obj.data_field)
    if not isinstance(text, str):
        raise ResultError(f'task data has no text in "{obj.data_field}" for a span')
    if not 0 <= start < end <= len(text):
        raise ResultError(f"span [{start}, {end}) is outside the text (length {len(text)})")
    if "text" in value and value["text"] != text[start:end]:
        raise ResultError(f"value.text {value['text']!r} does not match the text at [{start}, {end}): {text[start:end]!r}")


def _check_box(control: ControlTag, value: dict, obj: ObjectTag, task_data: dict) -> None:
    _check_label_values(control, value.get("rectanglelabels"), exactly_one=False)
    coords = {key: value.get(key) for key in ("x", "y", "width", "height")}
    for key, number in coords.items():
        if not _is_number(number):
            raise ResultError(f"value.{key} must be a number (percent of the image)")
    x, y, width, height = coords["x"], coords["y"], coords["width"], coords["height"]
    if width <= 0 or height <= 0:
        raise ResultError("box width and height must be positive")
    low, high = -PERCENT_TOLERANCE, 100 + PERCENT_TOLERANCE
    if x < low or y < low or x + width > high or y + height > high:
        raise ResultError(f"box x={x}, y={y}, width={width}, height={height} is outside the image (0-100%)")
    if "rotation" in value and not _is_number(value["rotation"]):
        raise ResultError("value.rotation must be a number of degrees")


def _check_textarea(control: ControlTag, value: dict, obj: ObjectTag, task_data: dict) -> None:
    texts = value.get("text")
    if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        raise ResultError("value.text must be a list of strings")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # not NaN
