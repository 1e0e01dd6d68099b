"""What a writer needs beside the task records: the label config, the project, and access to stored images."""
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from projects.label_config import ControlTag, LabelConfig


# What a format needs -> (the control's result type, how to name it to a user).
NEEDS = {
    "boxes": ("rectanglelabels", "boxes (a <RectangleLabels> control over an <Image>)"),
    "spans": ("labels", "text spans (a <Labels> control over a <Text>)"),
}


class ExportError(ValueError):
    """An export that cannot be made as asked (a format the label config has nothing for)."""


@dataclass(frozen=True)
class StoredImage:
    """An image the project stores: its file name and a way to read its bytes and its header's size."""

    name: str
    read: Callable[[], bytes]
    size: Callable[[], tuple[int, int, int] | None]  # width, height, channels; None when unreadable


@dataclass
class ExportContext:
    project_id: int
    title: str
    config: LabelConfig
    # Maps a task's image URL to the stored image, or None when the project only references it.
    stored_image: Callable[[str], StoredImage | None] = lambda url: None
    # CSV cells that a spreadsheet would run as a formula get a leading quote (see tables.py); False: verbatim.
    csv_safe: bool = True
    # Filled by the writers as they go: tasks, labelings, boxes, images included and referenced...
    counts: Counter = field(default_factory=Counter)

    def controls_of(self, result_type: str) -> list[ControlTag]:
        return [control for control in self.config.controls.values() if control.result_type == result_type]

    def box_control(self) -> ControlTag:
        """The first <RectangleLabels>: the one COCO, YOLO and VOC describe."""
        return self._first("boxes")

    def span_control(self) -> ControlTag:
        """The first <Labels>: the one CoNLL describes."""
        return self._first("spans")

    def data_field(self, control: ControlTag) -> str:
        return self.config.objects[control.to_name].data_field

    def check_fits(self, format_name: str, needs: str | None) -> None:
        """Raise ExportError when the label config has nothing the format could hold."""
        if needs and not self.controls_of(NEEDS[needs][0]):
            raise ExportError(f"{format_name} exports {NEEDS[needs][1]}, and this project's label config has none")

    def _first(self, needs: str) -> ControlTag:
        controls = self.controls_of(NEEDS[needs][0])
        if not controls:
            raise ExportError(f"the project's label config has no {NEEDS[needs][1]}")
        return controls[0]
