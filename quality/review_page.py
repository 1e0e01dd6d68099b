"""Turn result items into what the reviewer's page draws: highlighted text segments, box rectangles, choices."""
from dataclasses import dataclass, field


@dataclass
class Segment:
    text: str
    labels: list[str] = field(default_factory=list)


def text_segments(text: str, spans: list[dict]) -> list[Segment]:
    """Split the text at every span boundary; each piece carries the labels of the spans covering it, so
    overlapping spans stay visible."""
    cuts = sorted({0, len(text), *(max(0, min(len(text), s["start"])) for s in spans), *(max(0, min(len(text), s["end"])) for s in spans)})
    segments = []
    for start, end in zip(cuts, cuts[1:]):
        labels = [label for s in spans if s["start"] <= start and end <= s["end"] for label in s["labels"]]
        segments.append(Segment(text[start:end], labels))
    return segments


def describe(result: list, data: dict, objects: dict) -> dict:
    """One result (an annotation, the consensus) as choices per control, text segments and boxes."""
    choices: dict[str, list[str]] = {}
    spans: dict[str, list[dict]] = {}
    boxes: list[dict] = []
    for item in result or []:
        value = item.get("value", {})
        if item.get("type") == "choices":
            choices.setdefault(item.get("from_name", ""), []).extend(value.get("choices", []))
        elif item.get("type") == "labels":
            spans.setdefault(item.get("to_name", ""), []).append({"start": value.get("start", 0), "end": value.get("end", 0), "labels": value.get("labels", [])})
        elif item.get("type") == "rectanglelabels":
            boxes.append({**{k: value.get(k, 0) for k in ("x", "y", "width", "height")}, "label": ", ".join(value.get("rectanglelabels", []))})
        elif item.get("type") == "textarea":
            choices.setdefault(item.get("from_name", ""), []).extend(value.get("text", []))
    texts = {
        name: text_segments(str(data.get(obj.data_field, "")), spans.get(name, []))
        for name, obj in objects.items() if obj.kind == "text"
    }
    return {"choices": choices, "texts": texts, "boxes": boxes}
