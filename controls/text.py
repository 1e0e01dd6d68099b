"""<Text>: a text from the task's data, shown with its labeled spans highlighted on the review page."""
from dataclasses import dataclass, field

from projects.control_types import ObjectTag, ObjectType, ReviewPiece, register_object


@dataclass
class Segment:
    text: str
    labels: list[str] = field(default_factory=list)


@register_object
class Text(ObjectType):
    tag = "Text"
    kind = "text"
    js_module = "objects/text.js"

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
