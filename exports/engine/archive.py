"""What the image formats (COCO, YOLO, VOC) share: a zip written as a stream, and each task's image.

The zip goes to an in-memory sink that is drained after every entry, so an archive of any size streams out
with only one entry in memory. Images the project stores go into the archive; images it only references by
URL are listed in `image_urls.csv` (the `path` each is expected at in the archive, its `url`), and README.txt
says which is which.
"""
import csv
import posixpath
import re
import tempfile
import time
import zipfile
from dataclasses import dataclass
from typing import Iterable, Iterator
from urllib.parse import unquote

from .context import ExportContext, StoredImage
from .json_tasks import dumps
from .results import Box, regions_of

SPOOL_BYTES = 8 * 1024 * 1024  # side files (referenced URLs, COCO's sections) spill to disk past this


class _Sink:
    """A write-only, unseekable file: zipfile then writes data descriptors instead of seeking back."""

    def __init__(self):
        self.pieces: list[bytes] = []

    def write(self, data) -> int:
        self.pieces.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


class ZipStream:
    def __init__(self):
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, "w", zipfile.ZIP_DEFLATED)
        self._date_time = time.gmtime()[:6]

    def add(self, name: str, content: bytes, *, compress: bool = True) -> None:
        info = zipfile.ZipInfo(name, date_time=self._date_time)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        self._zip.writestr(info, content)

    def add_pieces(self, name: str, pieces: Iterable[bytes]) -> Iterator[bytes]:
        """Write an entry of unknown size piece by piece, yielding the archive's bytes as they come."""
        info = zipfile.ZipInfo(name, date_time=self._date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        with self._zip.open(info, "w", force_zip64=True) as entry:
            for piece in pieces:
                entry.write(piece)
                yield self.drain()
        yield self.drain()

    def drain(self) -> bytes:
        data = b"".join(self._sink.pieces)
        self._sink.pieces.clear()
        return data

    def close(self) -> bytes:
        self._zip.close()
        return self.drain()


class LabelIds:
    """Class ids in the label config's order, so they are the same in every export of the project; a label the
    config no longer has (results made before it changed) gets the next free id, in order of appearance."""

    def __init__(self, labels: Iterable[str], *, first: int):
        self.ids = {label: first + index for index, label in enumerate(labels)}
        self._next = first + len(self.ids)

    def id_of(self, label: str) -> int:
        if label not in self.ids:
            self.ids[label] = self._next
            self._next += 1
        return self.ids[label]


class JsonArraySpool:
    """The items of a JSON array kept on disk past a few megabytes, to be copied into the archive at the end."""

    def __init__(self):
        self._file = tempfile.SpooledTemporaryFile(SPOOL_BYTES)
        self._separator = b""

    def append(self, value) -> None:
        self._file.write(self._separator + dumps(value))
        self._separator = b","

    def extend(self, values: list) -> None:
        if values:
            self._file.write(self._separator + dumps(values)[1:-1])  # the items without the list's brackets
            self._separator = b","

    def pieces(self) -> Iterator[bytes]:
        self._file.seek(0)
        while chunk := self._file.read(1024 * 1024):
            yield chunk
        self._file.close()


@dataclass
class TaskImage:
    """A task's image as an export sees it: the name it has in the archive, its size, its boxes."""

    task_id: int
    url: str
    file_name: str
    stored: StoredImage | None
    width: int | None
    height: int | None
    depth: int
    boxes: list[Box]

    @property
    def stem(self) -> str:
        return posixpath.splitext(self.file_name)[0]


def task_images(tasks: Iterable[dict], context: ExportContext) -> Iterator[TaskImage]:
    """Each labeled task's image with the boxes of every annotation it carries.

    A task nobody labeled is left out: "no boxes yet" must not reach training data as "nothing to find".
    """
    control = context.box_control()
    field = context.data_field(control)
    for task in tasks:
        if not task["annotations"]:
            context.counts["tasks_left_out_unlabeled"] += 1
            continue
        url = str(task["data"].get(field) or "")
        stored = context.stored_image(url)
        boxes = [box for annotation in task["annotations"] for box in regions_of(annotation, control)]
        width, height, depth = _image_size(boxes, task.get("meta") or {}, stored)
        name = stored.name if stored else _referenced_name(task["id"], url)
        yield TaskImage(task["id"], url, name, stored, width, height, depth, boxes)


def _image_size(boxes: list[Box], meta: dict, stored: StoredImage | None) -> tuple[int | None, int | None, int]:
    """The size the annotator saw (in the result), else what import recorded, else the stored file's header."""
    for box in boxes:
        if box.original_width and box.original_height:
            return int(box.original_width), int(box.original_height), 3
    if meta.get("image_width") and meta.get("image_height"):
        return int(meta["image_width"]), int(meta["image_height"]), 3
    header = stored.size() if stored else None
    return header if header else (None, None, 3)


def _referenced_name(task_id: int, url: str) -> str:
    base = unquote(url.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1])
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._")
    return f"{task_id}-{base}" if base else f"{task_id}.jpg"


class ImageArchive:
    """A zip with one folder of images; see the module's docstring for stored versus referenced images."""

    def __init__(self, context: ExportContext, image_dir: str):
        self.context = context
        self.image_dir = image_dir
        self.zip = ZipStream()
        self._urls = tempfile.SpooledTemporaryFile(SPOOL_BYTES, mode="w+", newline="", encoding="utf-8")
        self._url_rows = csv.writer(self._urls)
        self._url_rows.writerow(["path", "url"])

    def image_path(self, image: TaskImage) -> str:
        return f"{self.image_dir}/{image.file_name}"

    def add_image(self, image: TaskImage) -> None:
        if image.stored is not None:
            # Images are compressed already; deflating them again costs time and saves nothing.
            self.zip.add(self.image_path(image), image.stored.read(), compress=False)
            self.context.counts["images_included"] += 1
        else:
            self._url_rows.writerow([self.image_path(image), image.url])
            self.context.counts["images_referenced"] += 1

    def skip_unsized(self, image: TaskImage) -> bool:
        """True (and counted) when the image's size is unknown, so its boxes cannot become pixels."""
        if image.width and image.height:
            return False
        self.context.counts["images_left_out_unknown_size"] += 1
        return True

    def finish(self, about: str) -> Iterator[bytes]:
        counts = self.context.counts
        if counts["images_referenced"]:
            self._urls.seek(0)
            yield from self.zip.add_pieces("image_urls.csv", _read_text(self._urls))
        self._urls.close()
        self.zip.add("README.txt", (about.strip() + "\n\n" + self.images_note()).encode())
        yield self.zip.close()

    def images_note(self) -> str:
        counts = self.context.counts
        lines = [f"Exported from Labeler project {self.context.project_id} ({self.context.title})."]
        if counts["images_included"]:
            lines.append(f"{counts['images_included']} images the project stores are included under {self.image_dir}/.")
        if counts["images_referenced"]:
            lines.append(
                f"{counts['images_referenced']} images are NOT included: the project only references them by URL. "
                f"image_urls.csv lists each one's expected path in this archive and its URL; download them there "
                "(relative URLs are on the Labeler server and need your API token)."
            )
        if counts["images_left_out_unknown_size"]:
            lines.append(
                f"{counts['images_left_out_unknown_size']} images were left out because their size is unknown "
                "(no original_width/height in the result, none recorded at import, no stored file to read)."
            )
        if counts["tasks_left_out_unlabeled"]:
            lines.append(f"{counts['tasks_left_out_unlabeled']} tasks without any annotation were left out.")
        return "\n".join(lines) + "\n"


def _read_text(spool) -> Iterator[bytes]:
    while chunk := spool.read(1024 * 1024):
        yield chunk.encode()
