"""Reading result items (Label Studio's regions) out of a task record's annotations: boxes, spans, values."""
from typing import NamedTuple

from projects.label_config import ControlTag


class Box(NamedTuple):
    """One labeled box: its edges in percent of the image from the top-left corner, clipped to the image.

    A tuple rather than a dataclass: a 100,000-task COCO export makes 600,000 of them."""

    label: str
    left: float
    top: float
    right: float
    bottom: float
    original_width: int | None = None
    original_height: int | None = None

    @classmethod
    def from_percent(cls, label: str, x: float, y: float, width: float, height: float, original_width=None, original_height=None) -> "Box":
        return cls(
            label, min(max(x, 0.0), 100.0), min(max(y, 0.0), 100.0),
            min(max(x + width, 0.0), 100.0), min(max(y + height, 0.0), 100.0), original_width, original_height,
        )

    def pixels(self, image_width: int, image_height: int) -> tuple[float, float, float, float]:
        """Absolute [x, y, w, h] in pixels. Multiplying before dividing keeps whole pixels whole (30 % of 640
        is 192.0, where 30 * 6.4 is 192.00000000000003), so the values need no rounding."""
        return (
            self.left * image_width / 100, self.top * image_height / 100,
            (self.right - self.left) * image_width / 100, (self.bottom - self.top) * image_height / 100,
        )

    def normalized_center(self) -> tuple[float, float, float, float]:
        """YOLO's centre x, centre y, width, height as fractions of the image."""
        return (self.left + self.right) / 200, (self.top + self.bottom) / 200, (self.right - self.left) / 100, (self.bottom - self.top) / 100


class Span(NamedTuple):
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
            boxes.append(Box.from_percent(
                label, value["x"], value["y"], value["width"], value["height"], item.get("original_width"), item.get("original_height"),
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
