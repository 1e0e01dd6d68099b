"""What the import readers hand over: checked tasks, images waiting to be stored, the limits, the error."""
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, ContextManager


class ImportError_(ValueError):
    """Input that cannot be imported; the message names the file and where in it."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class ImportLimits:
    max_bytes: int
    max_image_pixels: int
    zip_max_entries: int
    zip_max_uncompressed_bytes: int
    zip_max_ratio: int = 100


@dataclass
class ImageUpload:
    """A checked image waiting to be stored; width and height come from its header. `open` gives its bytes
    again as a stream (a ZIP entry is unpacked again), so no image is held in memory between check and store."""

    name: str
    width: int
    height: int
    open: Callable[[], ContextManager[BinaryIO]]


@dataclass
class ParsedTask:
    data: dict
    predictions: list = field(default_factory=list)
    annotations: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    image: ImageUpload | None = None
    is_gold: bool = False
    gold_result: list | None = None
    where: str = ""  # e.g. "tasks.json: task 3", for errors found after parsing
