"""What the GenAI formats read from a label config and a task: the prompt, the responses, and the judgments on them.

The rule (README, "Export"): the responses are the objects a <Pairwise>, <Ranker> or <Rating> names (a <List> is
one response per item); the prompt is the first <Text> or <Paragraphs> object none of them names; a <TextArea>
naming exactly one <Text> other than the prompt is a rewrite of that response. Which model wrote a response is
task data: `model_<object name>`, else `<data field>_model`, else `model_a` / `model_b` for the first and second
object of a <Pairwise>; a <List> item's `model`, else its `title`.
Controls and objects are told apart by their result type and kind, so these formats need no tag module.
"""
from dataclasses import dataclass
from typing import Any, NamedTuple

from projects.label_config import ControlTag, LabelConfig, ObjectTag, list_item_model, model_data_keys

from .results import items_of

PAIRWISE, RANKER, RATING, TEXTAREA = "pairwise", "ranker", "rating", "textarea"
JUDGING_TYPES = (PAIRWISE, RANKER, RATING)
PROMPT_KINDS = ("text", "paragraphs")
DIALOGUE_KIND, LIST_KIND = "paragraphs", "list"
# Where a <Paragraphs> message keeps its speaker and text when the object does not say (Label Studio's defaults).
DEFAULT_NAME_KEY, DEFAULT_TEXT_KEY = "author", "text"
# How many pairs a ranking (or a rating dimension) makes: every pair it implies, or its best against its worst.
ALL_PAIRS, BEST_WORST = "all", "best_worst"
RANKING_PAIRS = (ALL_PAIRS, BEST_WORST)
PROMPT_MISSING = "a prompt: a <Text> or <Paragraphs> object that no <Pairwise>, <Ranker> or <Rating> names"


class Response(NamedTuple):
    id: str  # the object's name, or the <List> item's id
    object: str
    text: str
    model: str | None


class Rated(NamedTuple):
    response: Response
    rating: float
    control: ControlTag


@dataclass(frozen=True)
class GenAIConfig:
    """The label config as the GenAI formats see it (the module docstring's rule)."""

    objects: dict[str, ObjectTag]
    prompt: ObjectTag | None
    judges: tuple[ControlTag, ...]  # Pairwise, Ranker and Rating controls, in config order
    rewrites: tuple[ControlTag, ...]
    model_keys: dict[str, tuple[str, ...]]  # object name -> the task data keys naming its model, in precedence
    by_type: dict[str, tuple[ControlTag, ...]]  # the judges by result type (looked up once per annotation)

    @classmethod
    def of(cls, config: LabelConfig) -> "GenAIConfig":
        judges = tuple(control for control in config.controls.values() if control.result_type in JUDGING_TYPES)
        by_type = {kind: tuple(control for control in judges if control.result_type == kind) for kind in JUDGING_TYPES}
        prompt = _prompt_of(config, judges)
        return cls(dict(config.objects), prompt, judges, _rewrites_of(config, prompt), model_data_keys(config), by_type)

    def of_type(self, result_type: str) -> tuple[ControlTag, ...]:
        return self.by_type[result_type]

    def missing(self, needs: str) -> str | None:
        """What the config lacks for a format's `needs` ("preferences", "sft", "ratings"), or None."""
        if needs == "ratings":
            return None if self.of_type(RATING) else "a <Rating> control"
        if not self.judges and not (needs == "sft" and self.rewrites):
            extra = " or a <TextArea> rewriting a response" if needs == "sft" else ""
            return f"a <Pairwise>, <Ranker> or <Rating> control{extra}"
        return PROMPT_MISSING if self.prompt is None else None

    # Reading one task.

    def prompt_value(self, data: dict) -> str | list[dict]:
        """The prompt as TRL takes it: a string, or the dialogue's messages when the prompt is a <Paragraphs>."""
        value = data.get(self.prompt.data_field)
        if self.prompt.kind == DIALOGUE_KIND:
            options = self.prompt.options
            return dialogue_messages(value, name_key=options.get("name_key", DEFAULT_NAME_KEY),
                                     text_key=options.get("text_key", DEFAULT_TEXT_KEY))
        return _as_text(value)

    def prompt_messages(self, data: dict) -> list[dict]:
        value = self.prompt_value(data)
        return value if isinstance(value, list) else [{"role": "user", "content": value}]

    def responses(self, object_name: str, data: dict) -> dict[str, Response]:
        """The responses an object holds in this task, by id."""
        obj = self.objects[object_name]
        if obj.kind != LIST_KIND:
            return {obj.name: self.whole_response(object_name, data)}
        items = data.get(obj.data_field)
        return {
            str(item.get("id")): Response(str(item.get("id")), obj.name, _as_text(item.get("body")), list_item_model(item))
            for item in (items if isinstance(items, list) else ()) if isinstance(item, dict)
        }

    def whole_response(self, object_name: str, data: dict) -> Response | None:
        """The response a <Text> object is (None for a <List>, which holds several)."""
        obj = self.objects[object_name]
        if obj.kind == LIST_KIND:
            return None
        return Response(obj.name, obj.name, _as_text(data.get(obj.data_field)), self._model_of(obj.name, data))

    def _model_of(self, object_name: str, data: dict) -> str | None:
        for key in self.model_keys[object_name]:
            model = data.get(key)
            if model is not None:
                return model if isinstance(model, str) else str(model)
        return None

    def ratings(self, control: ControlTag, annotation: dict, data: dict) -> list[Rated]:
        """A <Rating>'s answers in one annotation: one per response it rated (per item on a <List>)."""
        rated = []
        responses = {name: self.responses(name, data) for name in control.to_names}
        for item in items_of(annotation, control):
            rating = item["value"].get("rating")
            response = _rated_response(item, control, responses)
            if response is not None and isinstance(rating, (int, float)) and not isinstance(rating, bool):
                rated.append(Rated(response, rating, control))
        return rated


def _prompt_of(config: LabelConfig, judges: tuple[ControlTag, ...]) -> ObjectTag | None:
    judged = {name for control in judges for name in control.to_names}
    return next((obj for obj in config.objects.values() if obj.kind in PROMPT_KINDS and obj.name not in judged), None)


def _rewrites_of(config: LabelConfig, prompt: ObjectTag | None) -> tuple[ControlTag, ...]:
    """The <TextArea>s naming one <Text> that is not the prompt (one naming the prompt is a justification)."""
    return tuple(
        control for control in config.controls.values()
        if control.result_type == TEXTAREA and len(control.to_names) == 1
        and config.objects[control.to_names[0]].kind == "text" and control.to_names[0] != getattr(prompt, "name", None)
    )


def _rated_response(item: dict, control: ControlTag, responses: dict[str, dict[str, Response]]) -> Response | None:
    """The response a rating item is about: its object's own text, or the <List> item in `item_index`
    (the item's id, or its position)."""
    object_name = item.get("to_name") if item.get("to_name") in responses else control.to_names[0]
    found = responses[object_name]
    if "item_index" not in item:
        return found.get(object_name)  # a whole-response rating (a <List> needs the item)
    index = item["item_index"]
    if isinstance(index, str):
        return found.get(index)
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(found):
        return list(found.values())[index]
    return None


def dialogue_messages(value: Any, *, name_key: str = DEFAULT_NAME_KEY, text_key: str = DEFAULT_TEXT_KEY) -> list[dict]:
    """A <Paragraphs> dialogue (its messages keep the speaker under `name_key`, the text under `text_key`) as
    chat messages `{"role", "content"}`."""
    messages = value if isinstance(value, list) else []
    return [{"role": _as_text(message.get(name_key)), "content": _as_text(message.get(text_key))}
            for message in messages if isinstance(message, dict)]


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def text_lines(items: list[dict]) -> str:
    """A <TextArea>'s answer as one text: its lines joined."""
    return "\n".join(line for item in items for line in item["value"].get("text") or () if isinstance(line, str))
