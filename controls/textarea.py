"""<TextArea>: free text about the object, as a list of lines; pre-filled (value="$response") it is a rewrite."""
from projects.control_types import (ControlTag, ControlType, LabelConfigError, ObjectTag, ResultError, ReviewPiece,
                                    item_value, register_control)
from quality.engine import MergeOptions, TaskConsensus
from quality.engine.choices import aggregate_text

DEFAULT_ROWS = 3
MAX_ROWS = 40


@register_control
class TextArea(ControlType):
    tag = "TextArea"
    result_type = "textarea"
    object_kinds = frozenset({"image", "paragraphs", "text"})
    js_module = "controls/textarea.js"

    def parse_attributes(self, element, name: str) -> dict:
        """Label Studio's value (a pre-fill: "$field" from the task, or literal text), placeholder and rows;
        its maxSubmissions, editable and transcription are not read."""
        return {"options": {
            **_prefill(element.get("value"), name),
            "placeholder": element.get("placeholder", ""),
            "rows": _rows(element.get("rows"), name),
        }}

    def page_keys(self, control: ControlTag) -> tuple[str, ...]:
        """E moves the focus into the text field (the page's textarea module binds it)."""
        return ("e",)

    def validate_task_data(self, control: ControlTag, data: dict) -> None:
        field = control.options.get("value_field")
        if field is None:
            return
        if field not in data:
            raise ResultError(f'task data has no "{field}" field, which <TextArea name="{control.name}"> needs for '
                              f'its pre-fill (value="${field}")')
        if not isinstance(data[field], str):
            raise ResultError(f'task data "{field}" must be a string: <TextArea name="{control.name}"> is '
                              f'pre-filled with it (value="${field}")')

    def validate_value(self, control: ControlTag, value: dict, objects: list[ObjectTag], task_data: dict) -> None:
        texts = value.get("text")
        if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
            raise ResultError("value.text must be a list of strings")

    def has_answer(self, value: dict) -> bool:
        """Some non-blank line (a span's "text" is a string, and it is another type's). A pre-filled text submitted
        untouched is an answer, as in Label Studio: the annotator judged it ideal as it stands."""
        texts = value.get("text")
        return isinstance(texts, list) and any(isinstance(text, str) and text.strip() for text in texts)

    def merge(self, control: dict, annotations, options: MergeOptions) -> TaskConsensus:
        return aggregate_text(control, annotations, seed=options.seed)

    def review_pieces(self, item: dict) -> list[ReviewPiece]:
        return [ReviewPiece("answers", item.get("from_name", ""), item_value(item).get("text", []))]

    def table_value(self, control: ControlTag, items: list[dict]):
        """One line as a string, several as a list."""
        texts = [text for item in items for text in item["value"].get("text") or []]
        return texts[0] if len(texts) == 1 else texts


def _prefill(raw: str | None, name: str) -> dict:
    """{"value_field": "response_a"} for value="$response_a", {"value_text": "..."} for literal text, or neither."""
    if raw is None or raw == "":
        return {"value_field": None, "value_text": ""}
    if raw.startswith("$"):
        field = raw[1:].strip()
        if not field:
            raise LabelConfigError(f'<TextArea name="{name}"> value="{raw}" must name a task field like "$response_a"')
        return {"value_field": field, "value_text": ""}
    return {"value_field": None, "value_text": raw}


def _rows(raw: str | None, name: str) -> int:
    if raw is None:
        return DEFAULT_ROWS
    try:
        rows = int(raw.strip())
    except ValueError:
        rows = 0
    if not 1 <= rows <= MAX_ROWS:
        raise LabelConfigError(f'<TextArea name="{name}"> rows="{raw}" must be a whole number from 1 to {MAX_ROWS}')
    return rows
