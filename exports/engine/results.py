"""Reading result items (Label Studio's regions) out of a task record's annotations: boxes, spans, values."""
from dataclasses import dataclass
from projects.label_config import ControlTag


@dataclass(frozen=True)
class Box:
    """One labeled box in percent of the image, as stored (top-left corner, width, height)."""

    label: str
    x: float
    y: float
    width: float
    height: float
    original_width: int | None
    original_height: int | None

    def clipped(self) -> tuple[float, float, float, float]:
        """Left, top, right, bottom in percent, inside the image."""
        return (
            min(max(self.x, 0.0), 100.0), min(max(self.y, 0.0), 100.0),
            min(max(self.x + self.width, 0.0), 100.0), min(max(self.y + self.height, 0.0), 100.0),
        )

    def pixels(self, image_width: int, image_height: int) -> tuple[float, float, float, float]:
        """Absolute [x, y, w, h] in pixels, clipped to the image."""
        left, top, right, bottom = self.clipped()
        x_scale, y_scale = image_width / 100, image_height / 100
        return left * x_scale, top * y_scale, (right - left) * x_scale, (bottom - top) * y_scale

    def normalized_center(self) -> tuple[float, float, float, float]:
        """YOLO's centre x, centre y, width, height as fractions of the image, clipped to it."""
        left, top, right, bottom = self.clipped()
        return (left + right) / 200, (top + bottom) / 200, (right - left) / 100, (bottom - top) / 100


@dataclass(frozen=True)
class Span:
    label: str
    start: int
    end: int


def items_of(annotation: dict, control: ControlTag) -> list[dict]:
    name = control.name
    return [
        item for item in annotation.get("result") or ()
        if isinstance(item, dict) and item.get("from_name") == name and isinstance(item.get("value"), dict)
    ]


def boxes_of(annotation: dict, control: ControlTag) -> list[Box]:
    """Every box of the control in one annotation; a box with several labels counts once per label."""
    boxes = []
    for item in items_of(annotation, control):
        value = item["value"]
        for label in value.get("rectanglelabels") or []:
            boxes.append(Box(
                label=label, x=value["x"], y=value["y"], width=value["width"], height=value["height"],
                original_width=item.get("original_width"), original_height=item.get("original_height"),
            ))
    return boxes


def spans_of(annotation: dict, control: ControlTag) -> list[Span]:
    return [
        Span(label, item["value"]["start"], item["value"]["end"])
        for item in items_of(annotation, control)
        for label in (item["value"].get("labels") or [])[:1]  # a token gets one tag; the first label is it
    ]


def control_value(annotation: dict, control: ControlTag):
    """The control's answer in one annotation, in the flattest shape that keeps it whole."""
    items = list(items_of(annotation, control))
    if not items:
        return None
    if control.result_type == "choices":
        choices = [choice for item in items for choice in item["value"].get("choices") or []]
        return choices if control.multiple else (choices[0] if choices else None)
    if control.result_type == "textarea":
        texts = [text for item in items for text in item["value"].get("text") or []]
        return texts[0] if len(texts) == 1 else texts
    # Regions (spans, boxes): their value objects, each with its labels.
    return [item["value"] for item in items]
