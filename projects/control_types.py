"""The registry of control and object tags: what the server knows about each tag type, one subclass per type.

Pure: no Django models. The types themselves live one module each in the `controls` app, which registers them
when Django starts; this module only says what a type must tell and finds a type by its tag or result type.
"""
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class LabelConfigError(ValueError):
    """The label config is not valid XML or uses something Labeler does not support."""


class ResultError(ValueError):
    """An annotation or prediction result does not fit the project's label config or the task's data."""


@dataclass(frozen=True)
class ObjectTag:
    name: str
    kind: str  # the object type's kind: "image", "text"...
    data_field: str  # the task data key named by value="$field"
    tag: str  # the XML tag, "Image"
    # Attributes only this object's type reads (say a dialogue's nameKey), parsed by the type.
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ControlTag:
    name: str
    tag: str
    result_type: str
    to_names: tuple[str, ...]  # the objects named by toName="a,b", in that order
    values: tuple[str, ...] = ()
    hotkeys: dict[str, str] = field(default_factory=dict)
    multiple: bool = False
    # Label Studio's required="true"/"false"; None when the config does not say (the page then decides).
    required: bool | None = None
    # Attributes only this control's type reads (say a rating's maxRating), parsed by the type.
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def to_name(self) -> str:
        """toName as Label Studio's result items carry it: the object names joined by commas."""
        return ",".join(self.to_names)


class ReviewPiece(NamedTuple):
    """One thing the review page draws for a result item: `kind` picks the template's piece.

    "answers": `data` is a list of strings shown as chips beside the control named by `target`.
    "spans": `data` is {"start", "end", "labels"}, highlighted in the text object `target`.
    "boxes": `data` is {"x", "y", "width", "height", "label"} in percent, drawn over the image object `target`.
    "ranks": `data` is {item id: place} (1 the best), "ratings": {item id: "4 ★"}, shown on the list `target`'s cards."""

    kind: str
    target: str
    data: Any


# The model version of an LLM judge's predictions starts with this (ml.engines.llm_judge); quality reports on them.
JUDGE_VERSION_PREFIX = "llm_judge:"


class JudgeQuestion(NamedTuple):
    """What an LLM judge is asked for one control: an instruction and the JSON schema its answer must fit.
    `swaps` names two objects whose texts trade places when the judge is asked again in the other order (a
    comparison asked both ways shows whether the judge prefers a position rather than a response)."""

    text: str
    schema: dict
    swaps: tuple[str, str] | None = None


class ControlType:
    """Everything the server knows about one control tag. Subclass it in a module of the `controls` app."""

    tag: str = ""  # the XML tag, "Choices"
    result_type: str = ""  # the result items' "type", "choices"
    object_kinds: frozenset[str] = frozenset()  # kinds of object it may point at
    value_tag: str | None = None  # the child tag listing its values ("Choice"), None when it has none
    value_attribute: str = "value"  # the child's attribute naming a value (Label Studio's <Bucket name="...">)
    values_optional: bool = False  # whether the control may have no child values at all (a Ranker's buckets)
    js_module: str = ""  # its labeling page module, under frontend/js/
    region_kind: str | None = None  # "boxes" or "spans" when export formats of regions read it
    compares_models: bool = False  # its answers judge the models that wrote the responses (the leaderboard reads it)

    def parse_attributes(self, element, name: str) -> dict[str, Any]:
        """Extra ControlTag fields (`multiple`, `options`) read from the tag's own attributes."""
        return {}

    def check_targets(self, control: ControlTag, objects: Sequence[ObjectTag]) -> None:
        """Raise LabelConfigError when the objects its toName names do not suit the control's own attributes."""

    def validate_task_data(self, control: ControlTag, data: dict) -> None:
        """Raise ResultError when a task's data lacks what the control itself reads (a TextArea pre-filled from a
        task field); the objects' own fields are checked apart."""

    def validate_value(self, control: ControlTag, value: dict, objects: Sequence[ObjectTag], task_data: dict) -> None:
        """Raise ResultError when one result item's value does not fit the control or the task's data."""

    def validate_items(self, control: ControlTag, items: Sequence[dict], objects: Sequence[ObjectTag],
                       task_data: dict) -> None:
        """Raise ResultError when the control's items of one result, each valid alone, do not fit together."""

    def has_answer(self, value: dict) -> bool:
        """Whether a result item's value says something (for required="true")."""
        return bool(value.get(self.result_type))

    def required_on_page_by_default(self, control: ControlTag) -> bool:
        """Whether the labeling page refuses a submit without it when the config has no required="..."."""
        return False

    def merge(self, control: dict, annotations: list, options) -> Any:
        """The annotators' items for one task merged (the consensus engine's TaskConsensus), or None when the type
        has no consensus. `control` is the engine's plain form; `options` the engine's MergeOptions."""
        return None

    # One class of a fixed set per annotation (a single choice; a pairwise's left, right or tie): the project
    # recompute fits Dawid-Skene over those classes, one confusion matrix per annotator, and `merge` weighs the
    # votes of a task finished later with the stored matrices (rows and columns in crowd_classes' order).
    crowd_path: str = ""  # where an item's answer is, as a JSON path from the item: "value.choices[0]"

    def crowd_classes(self, control: dict) -> tuple[str, ...]:
        """The classes of the control (the engine's plain form), or () when its answers are not one class each."""
        return ()

    def crowd_answer(self, item: dict) -> str | None:
        """The class one result item of the control gives (the value at crowd_path), None when it gives none."""
        return None

    def crowd_item(self, control: dict, answer: str, *, seed: int) -> dict:
        """The consensus result item of the class decided for a task, with the ids `merge` would give it."""
        raise NotImplementedError(f"<{self.tag}> has no crowd classes")

    def agreement_tally(self, control: dict) -> "AgreementTally":
        """What gathers the control's project-wide agreement during a recompute (the engine's plain form)."""
        return AgreementTally(control)

    def agreement_facts(self, summary: dict) -> list[tuple[str, str]]:
        """Its tally's summary as (label, sentence) rows for the quality page."""
        return AgreementTally.facts(summary)

    def review_pieces(self, item: dict) -> list[ReviewPiece]:
        """What the review page shows for one of its result items."""
        return []

    def table_value(self, control: ControlTag, items: list[dict]) -> Any:
        """The control's answer in one annotation for JSON_MIN and CSV, in the flattest shape that keeps it whole."""
        return [item["value"] for item in items]

    def regions(self, control: ControlTag, items: list[dict]) -> list:
        """The boxes or spans of one annotation's items, for the formats of `region_kind`."""
        return []

    def presentation(self, control: ControlTag, task_id: int, user_id: int) -> dict | None:
        """How the labeling page shows this task to this annotator when the type varies it (say two responses in
        a per-annotator order against position bias), sent with the next task as `presentation[control name]`.
        None when it shows every task the same way."""
        return None

    def page_keys(self, control: ControlTag) -> tuple[str, ...]:
        """Keys its page module binds itself (not through values); default keys for other controls skip them."""
        return ()

    def judge_question(self, control: ControlTag) -> JudgeQuestion | None:
        """What an LLM judge is asked for this control; None when a judge cannot answer it."""
        return None

    def judge_value(self, control: ControlTag, answer: Any, swapped: bool) -> dict:
        """The result item's value for a judge's answer that fits `judge_question`'s schema; `swapped` when the
        question's two objects were shown the other way round."""
        raise NotImplementedError(f"<{self.tag}> has no judge question")


class AgreementTally:
    """One control's agreement over a whole project, told about every finished task's merge of it in turn;
    `summary()` is what the agreement endpoint says of the control. This one: the mean per-task agreement."""

    # Whether `add` reads the annotators' items: when False the recompute may hand it None for them (it decides
    # choices-only projects from the label arrays without reading the annotations again).
    reads_annotations = False

    def __init__(self, control: dict):
        self.control = control
        self.tasks = 0
        self.agreements: list[float] = []
        self.confidences: list[float] = []

    def add(self, task_id: int, annotations: Sequence[tuple[Any, list[dict]]] | None, merged) -> None:
        """`annotations`: [(annotator id, the control's items)] of the task; `merged`: its TaskConsensus."""
        self.tasks += 1
        if merged.agreement is not None:
            self.agreements.append(merged.agreement)
        if merged.confidence is not None:
            self.confidences.append(merged.confidence)

    def summary(self) -> dict:
        return {"type": self.control["type"], "tasks": self.tasks, "measure": "mean per-task agreement",
                "mean_task_agreement": _mean(self.agreements), "mean_confidence": _mean(self.confidences)}

    @staticmethod
    def facts(summary: dict) -> list[tuple[str, str]]:
        """The summary as (label, sentence) rows for the quality page; a subclass adds its own after these."""
        return [("mean per-task agreement", f"{figure(summary.get('mean_task_agreement'))} over "
                                            f"{summary.get('tasks', 0)} task{'' if summary.get('tasks') == 1 else 's'}"),
                ("mean confidence", figure(summary.get("mean_confidence")))]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def figure(value: float | None, digits: int = 3) -> str:
    """A figure for the quality page: "–" when there is none."""
    return "–" if value is None else f"{value:.{digits}f}"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


class ObjectType:
    """Everything the server knows about one object tag (what is labeled)."""

    tag: str = ""  # the XML tag, "Image"
    kind: str = ""  # what controls name in their object_kinds, "image"
    js_module: str = ""  # its labeling page module, under frontend/js/
    assets: tuple[str, ...] = ()  # static files (.css, .js) the labeling page loads for it
    loads_url: bool = False  # its task field is a URL annotators' browsers fetch (checked on import)

    def parse_attributes(self, element, name: str) -> dict[str, Any]:
        """Extra ObjectTag fields (`options`) read from the tag's own attributes."""
        return {}

    def check_control(self, obj: ObjectTag, control: ControlTag, known: ControlType) -> None:
        """Raise LabelConfigError when this object, as configured, cannot take the control (beyond its kind)."""

    def assets_for(self, obj: ObjectTag) -> tuple[str, ...]:
        """The static files the labeling page loads for this object as configured."""
        return self.assets

    def validate_data(self, obj: ObjectTag, value: Any) -> None:
        """Raise ResultError when a task's value for this object is unusable."""
        if not isinstance(value, str):
            raise ResultError(f'task data "{obj.data_field}" must be a string (text or an image URL)')

    def review_display(self, obj: ObjectTag, task_data: dict, pieces: list[ReviewPiece]) -> dict | None:
        """What the review page shows for the object with the pieces pointing at it; its "kind" picks the
        template's piece ("text": segments, "image": url and boxes, "cards": a list's responses, "dialogue": chat
        messages). None shows nothing."""
        return None

    def review_assets(self, obj: ObjectTag) -> tuple[str, ...]:
        """The static files (.css, .js) the review page loads to show the object as configured."""
        return ()

    def cell_example(self, obj: ObjectTag) -> str | None:
        """For an object whose task value is a JSON structure (a dialogue, a list of responses), what one looks
        like: a CSV/TSV cell for it then holds that JSON, and the example is named when a cell is not. None when
        a cell is the value itself (a text, an image URL)."""
        return None

    def judge_text(self, obj: ObjectTag, value: Any) -> str | None:
        """The object's task value as plain text for an LLM judge's prompt; None when a judge cannot read it."""
        return value if isinstance(value, str) else None


_CONTROLS: dict[str, ControlType] = {}
_OBJECTS: dict[str, ObjectType] = {}


def register_control(control_class: type[ControlType]) -> type[ControlType]:
    """Class decorator: make the control type known by its tag and result type."""
    _refuse_duplicate(control_class.tag, _CONTROLS, _OBJECTS)
    if any(known.result_type == control_class.result_type for known in _CONTROLS.values()):
        raise ValueError(f"result type {control_class.result_type!r} is registered twice")
    _CONTROLS[control_class.tag] = control_class()
    return control_class


def register_object(object_class: type[ObjectType]) -> type[ObjectType]:
    """Class decorator: make the object type known by its tag."""
    _refuse_duplicate(object_class.tag, _OBJECTS, _CONTROLS)
    _OBJECTS[object_class.tag] = object_class()
    return object_class


def unregister(tag: str) -> None:
    """Forget a control or object type (tests that register a throwaway one)."""
    _CONTROLS.pop(tag, None)
    _OBJECTS.pop(tag, None)


def _refuse_duplicate(tag: str, same: Mapping, other: Mapping) -> None:
    if not tag:
        raise ValueError("a registered type needs its tag")
    if tag in same or tag in other:
        raise ValueError(f"<{tag}> is registered twice")


def control_type(tag: str) -> ControlType | None:
    return _CONTROLS.get(tag)


def control_type_for_result(result_type: Any) -> ControlType | None:
    """The type whose result items carry this "type" (case-insensitive, as the result validation reads it)."""
    if not isinstance(result_type, str):
        return None
    wanted = result_type.lower()
    return next((known for known in _CONTROLS.values() if known.result_type == wanted), None)


def object_type(tag: str) -> ObjectType | None:
    return _OBJECTS.get(tag)


def registered_controls() -> dict[str, ControlType]:
    """Every control type by tag, in tag order."""
    _refuse_empty()
    return dict(sorted(_CONTROLS.items()))


def registered_objects() -> dict[str, ObjectType]:
    """Every object type by tag, in tag order."""
    _refuse_empty()
    return dict(sorted(_OBJECTS.items()))


def _refuse_empty() -> None:
    # An empty registry means Django has not loaded the controls app; every config would read as unsupported.
    if not _CONTROLS or not _OBJECTS:
        raise RuntimeError("no control or object types are registered: is 'controls' in INSTALLED_APPS?")


# Helpers the control types share.

def check_label_values(control: ControlTag, labels: Any, *, exactly_one: bool) -> None:
    """A non-empty list of the control's own values (exactly one when `exactly_one`)."""
    if not isinstance(labels, list) or not labels or not all(isinstance(label, str) for label in labels):
        raise ResultError(f"value.{control.result_type} must be a non-empty list of strings")
    if exactly_one and len(labels) != 1:
        raise ResultError(f"{control.name} takes a single choice, got {len(labels)}")
    unknown = [label for label in labels if label not in control.values]
    if unknown:
        raise ResultError(f"{unknown[0]!r} is not a label of {control.name} ({', '.join(control.values)})")


def item_value(item: dict) -> dict:
    """A result item's value, or {} when it has none fit to read."""
    value = item.get("value")
    return value if isinstance(value, dict) else {}


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # not NaN
