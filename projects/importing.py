"""Read uploaded task files into Label Studio-style task dicts, checking every one against the label config.

Readers stream (a JSON list through ijson, others line by line) so a million-task file never sits in memory
as Python objects. Every problem raises ImportError_ with the file name and the line or task number.
Images are checked here (format, pixel count, ZIP entry paths) but stored by the caller.
"""
import csv
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

import ijson
from PIL import Image

from .label_config import LabelConfig, ResultError, validate_result, validate_task_data

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
TABULAR_EXTENSIONS = {".csv": ",", ".tsv": "\t"}
TASK_FILE_EXTENSIONS = {".json", ".jsonl", ".txt", *TABULAR_EXTENSIONS}
SUPPORTED_EXTENSIONS = TASK_FILE_EXTENSIONS | IMAGE_EXTENSIONS | {".zip"}
# ZIP members that archivers add and nobody means to import.
ZIP_JUNK_PREFIXES = ("__MACOSX/",)
ZIP_JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
JSON_POSITION_SCAN_LIMIT = 64 * 1024 * 1024


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


@dataclass
class ImageUpload:
    """A checked image waiting to be stored; width and height come from its header."""

    name: str
    width: int
    height: int
    content: bytes


@dataclass
class ParsedTask:
    data: dict
    predictions: list = field(default_factory=list)
    annotations: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    image: ImageUpload | None = None


def extension_of(name: str) -> str:
    return os.path.splitext(name.lower())[1]


def check_supported(name: str) -> None:
    if extension_of(name) not in SUPPORTED_EXTENSIONS:
        raise ImportError_(
            f"{name}: unsupported file type; upload {', '.join(sorted(SUPPORTED_EXTENSIONS))}",
            status=415,
        )


def read_tasks(name: str, stream: BinaryIO, config: LabelConfig, limits: ImportLimits) -> Iterator[ParsedTask]:
    """Yield checked tasks from one uploaded file, whatever its format."""
    check_supported(name)
    extension = extension_of(name)
    if extension == ".json":
        raw_items = _read_json(name, stream)
    elif extension == ".jsonl":
        raw_items = _read_jsonl(name, stream)
    elif extension in TABULAR_EXTENSIONS:
        raw_items = _read_tabular(name, stream, TABULAR_EXTENSIONS[extension])
    elif extension == ".txt":
        raw_items = _read_text_lines(name, stream, config)
    elif extension == ".zip":
        yield from _read_zip(name, stream, config, limits)
        return
    else:
        yield _image_task(config, _check_image(name, stream.read, limits))
        return
    for where, item in raw_items:
        yield _parse_task(config, item, f"{name}: {where}")


def parse_json_body(payload, config: LabelConfig) -> Iterator[ParsedTask]:
    """Tasks sent as an already-parsed JSON request body (a list, or one task)."""
    items = payload if isinstance(payload, list) else [payload]
    for index, item in enumerate(items, start=1):
        yield _parse_task(config, item, f"task {index}")


def _parse_task(config: LabelConfig, item, where: str) -> ParsedTask:
    if not isinstance(item, dict):
        raise ImportError_(f"{where}: a task must be a JSON object, not {type(item).__name__}")
    if isinstance(item.get("data"), dict):
        data = item["data"]
        predictions = _list_field(item, "predictions", where)
        annotations = _list_field(item, "annotations", where)
        meta = item.get("meta") if isinstance(item.get("meta"), dict) else {}
    else:
        data, predictions, annotations, meta = item, [], [], {}
    try:
        validate_task_data(config, data)
        for index, prediction in enumerate(predictions):
            _check_result_holder(config, data, prediction, f"predictions[{index}]")
        for index, annotation in enumerate(annotations):
            _check_result_holder(config, data, annotation, f"annotations[{index}]")
    except ResultError as exc:
        raise ImportError_(f"{where}: {exc}") from None
    return ParsedTask(data=data, predictions=predictions, annotations=annotations, meta=meta)


def _list_field(item: dict, key: str, where: str) -> list:
    value = item.get(key) or []
    if not isinstance(value, list):
        raise ImportError_(f"{where}: {key} must be a list")
    return value


def _check_result_holder(config: LabelConfig, data: dict, holder, where: str) -> None:
    if not isinstance(holder, dict):
        raise ResultError(f"{where} must be an object with a result list")
    try:
        validate_result(config, data, holder.get("result", []))
    except ResultError as exc:
        raise ResultError(f"{where}.{exc}") from None
    for number_field in ("score", "lead_time"):
        number = holder.get(number_field)
        if number is not None and (not isinstance(number, (int, float)) or isinstance(number, bool)):
            raise ResultError(f"{where}.{number_field} must be a number")


def _read_json(name: str, stream: BinaryIO) -> Iterator[tuple[str, object]]:
    first = _first_significant_byte(stream)
    if first == b"":
        raise ImportError_(f"{name}: the file is empty; expected a JSON list of tasks")
    try:
        if first == b"[":
            for index, item in enumerate(ijson.items(stream, "item", use_float=True), start=1):
                yield f"task {index}", item
        else:
            yield "task 1", json.load(stream)
    except (ijson.JSONError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ImportError_(f"{name}: malformed JSON, {_json_error_position(stream, exc)}") from None


def _first_significant_byte(stream: BinaryIO) -> bytes:
    start = stream.tell()
    head = stream.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    stream.seek(start)
    return head[:1]


def _json_error_position(stream: BinaryIO, exc: Exception) -> str:
    """Say where the JSON breaks: line and column from the json module, read again only on this error path."""
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno} column {exc.colno}: {exc.msg}"
    stream.seek(0, io.SEEK_END)
    if stream.tell() <= JSON_POSITION_SCAN_LIMIT:
        stream.seek(0)
        try:
            json.loads(stream.read().decode("utf-8-sig"))
        except json.JSONDecodeError as decode_error:
            return f"line {decode_error.lineno} column {decode_error.colno}: {decode_error.msg}"
        except UnicodeDecodeError as decode_error:
            return f"byte {decode_error.start}: not UTF-8 text"
    return str(exc).splitlines()[0]


def _read_jsonl(name: str, stream: BinaryIO) -> Iterator[tuple[str, object]]:
    for line_number, raw_line in enumerate(stream, start=1):
        line = raw_line.strip()
        if not line:
            continue
        try:
            yield f"line {line_number}", json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            detail = f"column {exc.colno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
            raise ImportError_(f"{name}: malformed JSON on line {line_number} {detail}") from None


def _text_lines(name: str, stream: BinaryIO) -> io.TextIOWrapper:
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def _read_tabular(name: str, stream: BinaryIO, delimiter: str) -> Iterator[tuple[str, object]]:
    text = _text_lines(name, stream)
    try:
        reader = csv.reader(text, delimiter=delimiter)
        header = next(reader, None)
        if not header or not any(column.strip() for column in header):
            raise ImportError_(f"{name}: the first line must name the columns (the task's data fields)")
        header = [column.strip() for column in header]
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise ImportError_(
                    f"{name}: line {reader.line_num} has {len(row)} fields but the header has {len(header)}"
                )
            yield f"line {reader.line_num}", dict(zip(header, row))
    except UnicodeDecodeError:
        raise ImportError_(f"{name}: not UTF-8 text") from None
    except csv.Error as exc:
        raise ImportError_(f"{name}: malformed CSV: {exc}") from None
    finally:
        text.detach()


def _read_text_lines(name: str, stream: BinaryIO, config: LabelConfig) -> Iterator[tuple[str, object]]:
    text_fields = config.data_fields_of_kind("text")
    if len(config.objects) != 1 or not text_fields:
        raise ImportError_(f"{name}: a .txt import needs a label config with exactly one <Text> object")
    text = _text_lines(name, stream)
    try:
        for line_number, line in enumerate(text, start=1):
            line = line.rstrip("\r\n")
            if line.strip():
                yield f"line {line_number}", {text_fields[0]: line}
    except UnicodeDecodeError:
        raise ImportError_(f"{name}: not UTF-8 text") from None
    finally:
        text.detach()


def _image_task(config: LabelConfig, image: ImageUpload) -> ParsedTask:
    image_fields = config.data_fields_of_kind("image")
    if not image_fields:
        raise ImportError_(f"{image.name}: this project's label config has no <Image> to show an image in")
    if len(config.objects) != 1:
        raise ImportError_(f"{image.name}: image uploads need a label config whose only object is one <Image>")
    # The URL is filled in by the caller once the image is stored.
    return ParsedTask(
        data={image_fields[0]: ""},
        meta={"file_name": image.name, "image_width": image.width, "image_height": image.height},
        image=image,
    )


def _check_image(name: str, read, limits: ImportLimits) -> ImageUpload:
    """Check an image's format and pixel count from its header, before anything decodes it."""
    content = read()
    if len(content) > limits.max_bytes:
        raise ImportError_(f"{name}: {len(content)} bytes is over the {limits.max_bytes}-byte limit", status=413)
    try:
        with Image.open(io.BytesIO(content)) as image:
            width, height = image.size
            if width * height > limits.max_image_pixels:
                raise ImportError_(
                    f"{name}: {width}x{height} pixels is over the limit of {limits.max_image_pixels} "
                    "(a decompression bomb, or an image too large to label)"
                )
            image.verify()
    except ImportError_:
        raise
    except Image.DecompressionBombError:
        raise ImportError_(f"{name}: too many pixels (a decompression bomb)") from None
    except Exception:
        raise ImportError_(f"{name}: not an image Labeler can read (JPEG, PNG, GIF, BMP, WebP, TIFF)") from None
    return ImageUpload(name=name, width=width, height=height, content=content)


def _read_zip(name: str, stream: BinaryIO, config: LabelConfig, limits: ImportLimits) -> Iterator[ParsedTask]:
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile:
        raise ImportError_(f"{name}: not a valid ZIP archive") from None
    with archive:
        members = [info for info in archive.infolist() if not _is_zip_junk(info)]
        _check_zip_members(name, members, limits)
        if not members:
            raise ImportError_(f"{name}: the archive holds no images")
        for info in members:
            if extension_of(info.filename) not in IMAGE_EXTENSIONS:
                raise ImportError_(f"{name}: {info.filename} is not an image; a ZIP import holds images only")
            entry_name = info.filename.replace("\\", "/")
            image = _check_image(f"{name}/{entry_name}", lambda info=info: archive.read(info), limits)
            image.name = os.path.basename(entry_name)
            yield _image_task(config, image)


def _is_zip_junk(info: zipfile.ZipInfo) -> bool:
    base = os.path.basename(info.filename.rstrip("/"))
    return info.is_dir() or info.filename.startswith(ZIP_JUNK_PREFIXES) or base in ZIP_JUNK_NAMES or base.startswith("._")


def _check_zip_members(name: str, members: list[zipfile.ZipInfo], limits: ImportLimits) -> None:
    if len(members) > limits.zip_max_entries:
        raise ImportError_(f"{name}: {len(members)} entries is over the limit of {limits.zip_max_entries}")
    total = 0
    for info in members:
        path = info.filename.replace("\\", "/")
        if path.startswith("/") or ".." in path.split("/") or (len(path) > 1 and path[1] == ":"):
            raise ImportError_(f"{name}: entry {info.filename!r} points outside the archive")
        total += info.file_size
    if total > limits.zip_max_uncompressed_bytes:
        raise ImportError_(
            f"{name}: unpacks to {total} bytes, over the limit of {limits.zip_max_uncompressed_bytes} (a ZIP bomb?)"
        )
