"""<TextArea>: free text about the object, as a list of lines."""
from projects.control_types import ControlTag, ControlType, ObjectTag, ResultError, ReviewPiece, item_value, register_control
from quality.engine import MergeOptions, TaskConsensus
from quality.engine.choices import aggregate_text


@register_control
class TextArea(ControlType):
    tag = "TextArea"
    result_type = "textarea"
    object_kinds = frozenset({"image", "paragraphs", "text"})
    js_module = "controls/textarea.js"

    def validate_value(self, control: ControlTag, value: dict, objects: list[ObjectTag], task_data: dict) -> None:
        texts = value.get("text")
        if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
            raise ResultError("value.text must be a list of strings")

    def has_answer(self, value: dict) -> bool:
        """Some non-blank line (a span's "text" is a string, and it is another type's)."""
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
