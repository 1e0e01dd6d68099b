"""What a writer needs beside the task records: the label config, the project, and access to stored images."""
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from projects.control_types import control_type
from projects.label_config import ControlTag, LabelConfig

from .genai import ALL_PAIRS, GenAIConfig


# What a format needs (the region kind a control type yields, or a GenAI role, see genai.py) -> how to name it.
NEEDS = {
    "boxes": "boxes (a <RectangleLabels> control over an <Image>)",
    "spans": "text spans (a <Labels> control over a <Text>)",
}

# The GenAI formats' needs: a prompt with judged responses (PREFERENCE_JSONL, SFT_JSONL), a rating (RATINGS_CSV).
GENAI_NEEDS = ("preferences", "sft", "ratings")


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
    # PREFERENCE_JSONL: every pair a ranking implies ("all"), or only its best against its worst ("best_worst").
    ranking_pairs: str = ALL_PAIRS
    # Filled by the writers as they go: tasks, labelings, boxes, images included and referenced...
    counts: Counter = field(default_factory=Counter)

    def controls_with_regions(self, region_kind: str) -> list[ControlTag]:
        """The controls whose type yields this kind of region ("boxes", "spans"), in config order."""
        return [control for control in self.config.controls.values()
                if control_type(control.tag).region_kind == region_kind]

    def box_control(self) -> ControlTag:
        """The first control yielding boxes (a <RectangleLabels>): the one COCO, YOLO and VOC describe."""
        return self._first("boxes")

    def span_control(self) -> ControlTag:
        """The first control yielding spans (a <Labels>): the one CoNLL describes."""
        return self._first("spans")

    def data_field(self, control: ControlTag) -> str:
        """The task field of the control's (first) object."""
        return self.config.objects[control.to_names[0]].data_field

    def check_fits(self, format_name: str, needs: str | None) -> None:
        """Raise ExportError when the label config has nothing the format could hold."""
        if needs in GENAI_NEEDS:
            missing = GenAIConfig.of(self.config).missing(needs)
            if missing:
                raise ExportError(f"{format_name} needs {missing}, and this project's label config has none")
        elif needs and not self.controls_with_regions(needs):
            raise ExportError(f"{format_name} exports {NEEDS[needs]}, and this project's label config has none")

    def _first(self, needs: str) -> ControlTag:
        controls = self.controls_with_regions(needs)
        if not controls:
            raise ExportError(f"the project's label config has no {NEEDS[needs]}")
        return controls[0]
