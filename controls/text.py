"""<Text>: a text from the task's data, shown with its labeled spans highlighted on the review page; with
markdown="true" (ours: Label Studio has no such attribute) the labeling page renders it as sanitised Markdown."""
from dataclasses import dataclass, field

from projects.control_types import (ControlTag, ControlType, LabelConfigError, ObjectTag, ObjectType, ReviewPiece,
                                    register_object)

# What the labeling page needs to render Markdown safely (js/markdown.js): the renderer, the sanitiser, their styles.
MARKDOWN_ASSETS = ("frontend/vendor/marked/marked.umd.js", "frontend/vendor/dompurify/purify.min.js",
                   "frontend/css/markdown.css")


@dataclass
class Segment:
    text: str
    labels: list[str] = field(default_factory=list)


@register_object
class Text(ObjectType):
    tag = "Text"
    kind = "text"
    js_module = "objects/text.js"

    def parse_attributes(self, element, name: str) -> dict:
        raw = element.get("markdown", "false").strip().lower()
        if raw not in {"true", "false"}:
            raise LabelConfigError(f'<Text name="{name}"> markdown="{element.get("markdown")}" must be "true" or "false"')
        return {"options": {"markdown": raw == "true"}}

    def check_control(self, obj: ObjectTag, control: ControlTag, known: ControlType) -> None:
        # Span offsets index the raw text; once Markdown is rendered, what the annotator selects is another string.
        if obj.options.get("markdown") and known.region_kind == "spans":
            raise LabelConfigError(
                f'<{control.tag} name="{control.name}"> cannot mark spans on <Text name="{obj.name}" markdown="true">: '
                "offsets count the raw text, not the rendered Markdown; drop markdown=\"true\" to label spans")

    def assets_for(self, obj: ObjectTag) -> tuple[str, ...]:
        return MARKDOWN_ASSETS if obj.options.get("markdown") else ()

    def review_display(self, obj: ObjectTag, task_data: dict, pieces: list[ReviewPiece]) -> dict:
        spans = [piece.data for piece in pieces if piece.kind == "spans"]
        return {"kind": "text", "name": obj.name, "segments": text_segments(str(task_data.get(obj.data_field, "")), spans)}


def text_segments(text: str, spans: list[dict]) -> list[Segment]:
    """Split the text at every span boundary; each piece carries the labels of the spans covering it, so
    overlapping spans stay visible."""
    bounds = [max(0, min(len(text), span[edge])) for span in spans for edge in ("start", "end")]
    cuts = sorted({0, len(text), *bounds})
    segments = []
    for start, end in zip(cuts, cuts[1:]):
        labels = [label for s in spans if s["start"] <= start and end <= s["end"] for label in s["labels"]]
        segments.append(Segment(text[start:end], labels))
    return segments
