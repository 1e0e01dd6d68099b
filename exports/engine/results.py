"""Reading result items (Label Studio's regions) out of a task record's annotations: boxes, spans, values.

What a control's items mean is its registered type's business (projects.control_types): the type yields the
regions (Box, Span, defined here for the formats' writers) and the table value."""
from typing import NamedTuple

from projects.control_types import control_type
from projects.label_config import ControlTag


def controls_agreement(task: dict, names) -> float | None:
    """The agreement of the task's consensus on these controls (the mean of theirs, each on its own scale: a
    ranking's Kendall's W, a rating's alpha), for an export line derived from them alone; the task's agreement
    when the consensus has no per-control figures (merged before they were kept)."""
    figures = (task.get("consensus") or {}).get("controls") or {}
    if not all(name in figures for name in names):
        return task.get("agreement")
    known = [figures[name]["agreement"] for name in names if figures[name].get("agreement") is not None]
    return sum(known) / len(known) if known else None


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


def regions_of(annotation: dict, control: ControlTag) -> list:
    """Every region (Box, Span) of the control in one annotation, as its type reads them."""
    return control_type(control.tag).regions(control, items_of(annotation, control))


def control_value(annotation: dict, control: ControlTag):
    """The control's answer in one annotation, in the flattest shape that keeps it whole (its type decides)."""
    items = items_of(annotation, control)
    if not items:
        return None
    return control_type(control.tag).table_value(control, items)
