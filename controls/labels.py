"""<Labels>: labeled spans of a text, as character offsets."""
from exports.engine.results import Span
from projects.control_types import (ControlTag, ControlType, ObjectTag, ResultError, ReviewPiece, check_label_values,
                                    item_value, register_control)
from quality.engine import MergeOptions, TaskConsensus
from quality.engine.spans import aggregate_spans


@register_control
class Labels(ControlType):
    tag = "Labels"
    result_type = "labels"
    object_kinds = frozenset({"text"})
    value_tag = "Label"
    js_module = "controls/labels.js"
    region_kind = "spans"

    def validate_value(self, control: ControlTag, value: dict, objects: list[ObjectTag], task_data: dict) -> None:
        check_label_values(control, value.get("labels"), exactly_one=False)
        start, end = value.get("start"), value.get("end")
        if not _is_offset(start) or not _is_offset(end):
            raise ResultError("value.start and value.end must be integers (character offsets)")
        field = objects[0].data_field
        text = task_data.get(field)
        if not isinstance(text, str):
            raise ResultError(f'task data has no text in "{field}" for a span')
        if not 0 <= start < end <= len(text):
            raise ResultError(f"span [{start}, {end}) is outside the text (length {len(text)})")
        if "text" in value and value["text"] != text[start:end]:
            raise ResultError(f"value.text {value['text']!r} does not match the text at [{start}, {end}): {text[start:end]!r}")

    def merge(self, control: dict, annotations, options: MergeOptions) -> TaskConsensus:
        return aggregate_spans(control, annotations, seed=options.seed, min_votes=options.min_votes, text=options.text)

    def review_pieces(self, item: dict) -> list[ReviewPiece]:
        value = item_value(item)
        span = {"start": value.get("start", 0), "end": value.get("end", 0), "labels": value.get("labels", [])}
        return [ReviewPiece("spans", item.get("to_name", ""), span)]

    def regions(self, control: ControlTag, items: list[dict]) -> list[Span]:
        return [
            Span(label, item["value"]["start"], item["value"]["end"])
            for item in items
            for label in (item["value"].get("labels") or [])[:1]  # a token gets one tag; the first label is it
        ]


def _is_offset(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
