"""Read uploaded task files into Label Studio-style task dicts, checking every one against the label config.

Readers stream (a JSON list through ijson, others line by line) so a million-task file never sits in memory
as Python objects. Every problem raises ImportError_ with the file name and the line or task number.
Images are checked here (format, pixel count, ZIP entry paths) but stored by the caller.
"""
import csv
import io
import json
import math
import os
import zipfile
import zlib
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from typing import BinaryIO, Iterator

import ijson
from PIL import Image

from .label_config import LabelConfig, ResultError, validate_result, validate_task_data

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
# What Pillow may identify an upload as, whatever its extension: formats browsers can show, nothing exotic.
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF")
TABULAR_EXTENSIONS = {".csv": ",", ".tsv": "\t"}
TASK_FILE_EXTENSIONS = {".json", ".jsonl", ".txt", *TABULAR_EXTENSIONS}
SUPPORTED_EXTENSIONS = TASK_FILE_EXTENSIONS | IMAGE_EXTENSIONS | {".zip"}
# ZIP members that archivers add and nobody means to import.
ZIP_JUNK_PREFIXES = ("__MACOSX/",)
ZIP_JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
JSON_POSITION_SCAN_LIMIT = 64 * 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
# Deeper task JSON is refused: ijson's memory grows with depth squared (a 60 KB file of "[" exhausts a
# server) and Python's json encoder recurses once per level when the task is saved.
MAX_JSON_DEPTH = 100
MODEL_VERSION_MAX_LENGTH = 200  # the width of Prediction.model_version's column


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
    # Closed at once when a task is refused, so the reader's text wrapper lets go of the stream in order.
    with closing(raw_items):
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
    _check_storable(item, where)
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


def _check_storable(item: dict, where: str) -> None:
    """Refuse what a JSON column (PostgreSQL's jsonb) cannot hold: NUL characters, NaN or infinite numbers,
    and nesting deeper than MAX_JSON_DEPTH. Level by level, not recursive: deep input cannot overflow the stack."""
    level, depth = [item], 1
    while level:
        if depth > MAX_JSON_DEPTH:
            raise ImportError_(f"{where}: nested deeper than {MAX_JSON_DEPTH} levels")
        deeper = []
        for container in level:
            if isinstance(container, dict):
                _check_storable_text("".join(container), where)  # JSON keys are strings
                values = container.values()
            else:
                values = container
            for value in values:
                if isinstance(value, str):
                    _check_storable_text(value, where)
                elif isinstance(value, (dict, list)):
                    deeper.append(value)
                elif isinstance(value, float) and not math.isfinite(value):
                    raise ImportError_(f"{where}: {value} is not a number JSON allows")
        level, depth = deeper, depth + 1


def _check_storable_text(text: str, where: str) -> None:
    if "\x00" in text:
        raise ImportError_(f"{where}: text holds a NUL character (\\u0000), which cannot be stored")


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
        if number is not None and not _fits_float(number):
            raise ResultError(f"{where}.{number_field} must be a number")
    model_version = holder.get("model_version")
    if model_version is not None and (
        not isinstance(model_version, (str, int, float)) or len(str(model_version)) > MODEL_VERSION_MAX_LENGTH
    ):
        raise ResultError(f"{where}.model_version must be a string of at most {MODEL_VERSION_MAX_LENGTH} characters")


def _fits_float(number) -> bool:
    """A JSON number a float column can store (a 400-digit integer cannot)."""
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        return False
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def _read_json(name: str, stream: BinaryIO) -> Iterator[tuple[str, object]]:
    _skip_bom(stream)
    first = _first_significant_byte(stream)
    if first == b"":
        raise ImportError_(f"{name}: the file is empty; expected a JSON list of tasks")
    try:
        if first == b"[":
            for index, item in enumerate(_json_list_items(stream), start=1):
                yield f"task {index}", item
        else:
            yield "task 1", _strict_json_loads(stream.read())
    except (ijson.JSONError, ValueError, RecursionError) as exc:
        raise ImportError_(f"{name}: malformed JSON, {_json_error_position(stream, exc)}") from None


def _skip_bom(stream: BinaryIO) -> None:
    start = stream.tell()
    if stream.read(len(UTF8_BOM)) != UTF8_BOM:
        stream.seek(start)


def _first_significant_byte(stream: BinaryIO) -> bytes:
    start = stream.tell()
    try:
        while chunk := stream.read(64 * 1024):
            if head := chunk.lstrip(b" \t\r\n"):
                return head[:1]
        return b""
    finally:
        stream.seek(start)


def _json_list_items(stream: BinaryIO) -> Iterator[object]:
    """Yield the items of a top-level JSON list one by one.

    Built from ijson's basic events rather than ijson.items, whose per-event prefixes make memory grow with
    nesting depth squared; depth is counted as it streams, so a hostile file is refused early.
    """
    depth, builder = 0, None
    # Not use_float=True: with it, ijson's C backend fails on integers past 64 bits, which JSON allows.
    for event, value in ijson.basic_parse(stream):
        if event == "number" and isinstance(value, Decimal):
            value = float(value)
        if event in ("start_map", "start_array"):
            depth += 1
            if depth == 1:
                continue  # the outer list's "["
            if depth > MAX_JSON_DEPTH + 1:
                raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
            if depth == 2:
                builder = ijson.ObjectBuilder()
        elif event in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                continue  # the outer list's "]"
        elif depth == 1:
            yield value  # a bare number or string as an item; _parse_task says why that is no task
            continue
        builder.event(event, value)
        if depth == 1:
            yield builder.value


def _refuse_json_constant(name: str):
    # Python's json accepts NaN and Infinity; JSON does not, and neither does PostgreSQL's jsonb.
    raise ValueError(f"{name} is not a JSON value")


def _strict_json_loads(raw: bytes):
    return json.loads(raw, parse_constant=_refuse_json_constant)


def _describe_json_error(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno} column {exc.colno}: {exc.msg}"
    if isinstance(exc, UnicodeDecodeError):
        return f"byte {exc.start}: not UTF-8 text"
    if isinstance(exc, RecursionError):
        return f"nested deeper than {MAX_JSON_DEPTH} levels"
    return str(exc).splitlines()[0]


def _json_error_position(stream: BinaryIO, exc: Exception) -> str:
    """Say where the JSON breaks: ijson's errors are read again by the json module, only on this error path."""
    if not isinstance(exc, ijson.JSONError):
        return _describe_json_error(exc)
    stream.seek(0, io.SEEK_END)
    if stream.tell() <= JSON_POSITION_SCAN_LIMIT:
        stream.seek(0)
        try:
            _strict_json_loads(stream.read().removeprefix(UTF8_BOM))
        except (ValueError, RecursionError) as reread_error:
            return _describe_json_error(reread_error)
    return _describe_json_error(exc)


def _read_jsonl(name: str, stream: BinaryIO) -> Iterator[tuple[str, object]]:
    for line_number, raw_line in enumerate(stream, start=1):
        # A BOM can start any line: concatenated files each bring their own.
        line = raw_line.strip().removeprefix(UTF8_BOM).strip()
        if not line:
            continue
        try:
            yield f"line {line_number}", _strict_json_loads(line)
        except (ValueError, RecursionError) as exc:
            detail = f"column {exc.colno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else _describe_json_error(exc)
            raise ImportError_(f"{name}: malformed JSON on line {line_number}, {detail}") from None


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
        with Image.open(io.BytesIO(content), formats=IMAGE_FORMATS) as image:
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
            where = f"{name}/{entry_name}"
            image = _check_image(where, lambda info=info, where=where: _read_zip_entry(archive, info, where), limits)
            image.name = os.path.basename(entry_name)
            yield _image_task(config, image)


def _read_zip_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> bytes:
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ImportError_(f"{where}: the archive entry is damaged ({exc})") from None
    except (NotImplementedError, RuntimeError) as exc:  # an unknown compression method, or a password
        raise ImportError_(f"{where}: the archive entry cannot be unpacked ({exc})") from None


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
        if info.file_size > limits.max_bytes:
            raise ImportError_(
                f"{name}: entry {info.filename!r} unpacks to {info.file_size} bytes, over the {limits.max_bytes}-byte limit",
                status=413,
            )
        total += info.file_size
    if total > limits.zip_max_uncompressed_bytes:
        raise ImportError_(
            f"{name}: unpacks to {total} bytes, over the limit of {limits.zip_max_uncompressed_bytes} (a ZIP bomb?)"
        )
