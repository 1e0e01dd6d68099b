"""Read uploaded task files into Label Studio-style task dicts, checking every one against the label config.

Readers stream (a JSON list through ijson, others line by line) so a million-task file never sits in memory
as Python objects. Every problem raises ImportError_ with the file name and the line or task number.
Images and ZIP archives are read by image_import; everything is stored by the caller.
"""
import csv
import io
import json
import math
from contextlib import closing
from decimal import Decimal
from typing import BinaryIO, Iterator

import ijson

from .images import IMAGE_EXTENSIONS, extension_of, read_image, read_zip
from .types import ImageUpload, ImportError_, ImportLimits, ParsedTask  # noqa: F401 (the readers' API)
from ..control_types import object_type
from ..label_config import LabelConfig, ObjectTag, ResultError, validate_result, validate_task_data

TABULAR_EXTENSIONS = {".csv": ",", ".tsv": "\t"}
TASK_FILE_EXTENSIONS = {".json", ".jsonl", ".txt", *TABULAR_EXTENSIONS}
SUPPORTED_EXTENSIONS = TASK_FILE_EXTENSIONS | IMAGE_EXTENSIONS | {".zip"}
JSON_POSITION_SCAN_LIMIT = 64 * 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
# Deeper task JSON is refused: ijson's memory grows with depth squared (a 60 KB file of "[" exhausts a
# server) and Python's json encoder recurses once per level when the task is saved.
MAX_JSON_DEPTH = 100
MODEL_VERSION_MAX_LENGTH = 200  # the width of Prediction.model_version's column

# The top-level keys of a task that Labeler reads (Label Studio's import format).
TASK_KEYS = ("data", "predictions", "annotations", "meta", "is_gold", "gold_result")
# Keys Label Studio's own export adds. Its identifiers travel along in meta["label_studio"] (to trace a task back);
# its counters (Labeler keeps its own), unsubmitted drafts and comment bookkeeping are ignored on purpose.
LABEL_STUDIO_KEPT_KEYS = ("id", "inner_id", "project", "file_upload", "created_at", "updated_at", "updated_by")
LABEL_STUDIO_IGNORED_KEYS = (
    "total_annotations", "cancelled_annotations", "total_predictions", "drafts", "comment_count",
    "unresolved_comment_count", "last_comment_updated_at", "comment_authors",
)
# CSV/TSV columns that are task fields rather than data fields.
TABULAR_TASK_COLUMNS = ("is_gold", "gold_result")
TABULAR_TRUE, TABULAR_FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}


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
        raw_items = _read_tabular(name, stream, TABULAR_EXTENSIONS[extension], _json_cells(config))
    elif extension == ".txt":
        raw_items = _read_text_lines(name, stream, config)
    elif extension == ".zip":
        yield from read_zip(name, stream, config, limits)
        return
    else:
        yield read_image(name, stream, config, limits)
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
    check_storable(item, where)
    if isinstance(item.get("data"), dict):
        data = item["data"]
        predictions = _list_field(item, "predictions", where)
        annotations = _list_field(item, "annotations", where)
        meta = _task_meta(item, where)
    else:
        _refuse_task_keys_without_data(item, where)
        data, predictions, annotations, meta = item, [], [], {}
    try:
        validate_task_data(config, data)
        for index, prediction in enumerate(predictions):
            _check_result_holder(config, data, prediction, f"predictions[{index}]")
        for index, annotation in enumerate(annotations):
            _check_result_holder(config, data, annotation, f"annotations[{index}]")
        is_gold, gold_result = _gold_of(config, data, item if data is not item else {}, annotations)
    except ResultError as exc:
        raise ImportError_(f"{where}: {exc}") from None
    return ParsedTask(
        data=data, predictions=predictions, annotations=annotations, meta=meta,
        is_gold=is_gold, gold_result=gold_result, where=where,
    )


def _task_meta(item: dict, where: str) -> dict:
    """The task's meta, with Label Studio's identifiers added; any key nobody reads is refused, naming it."""
    unknown = [key for key in item if key not in TASK_KEYS and key not in LABEL_STUDIO_KEPT_KEYS
               and key not in LABEL_STUDIO_IGNORED_KEYS]
    if unknown:
        raise ImportError_(
            f'{where}: unknown field "{unknown[0]}"; a task has {", ".join(TASK_KEYS)} '
            "(and Label Studio's export keys); put extra values in meta"
        )
    meta = item.get("meta", {})
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ImportError_(f"{where}: meta must be an object")
    kept = {key: item[key] for key in LABEL_STUDIO_KEPT_KEYS if key in item}
    if kept:
        meta = {**meta, "label_studio": {**(meta.get("label_studio") or {}), **kept}}
    return meta


def _refuse_task_keys_without_data(item: dict, where: str) -> None:
    """A bare object is the task's data; one that also carries task keys was meant as a task, missing "data"."""
    misplaced = [key for key in TASK_KEYS if key in item and key != "data"]
    if misplaced and "data" not in item:
        raise ImportError_(f'{where}: has "{misplaced[0]}" but no "data" object; put the task\'s fields under "data"')


def _gold_of(config: LabelConfig, data: dict, item: dict, annotations: list) -> tuple[bool, list | None]:
    """Whether the task is gold, and its known answer: `is_gold` with `gold_result`, or Label Studio's
    `ground_truth: true` on an annotation (whose result becomes the answer). Conflicting statements are refused."""
    is_gold = item.get("is_gold")
    if is_gold is not None and not isinstance(is_gold, bool):
        raise ResultError("is_gold must be true or false")
    gold_result = item.get("gold_result")
    if gold_result is not None:
        try:
            validate_result(config, data, gold_result)
        except ResultError as exc:
            raise ResultError(f"gold_result: {exc}") from None
    truth = _ground_truth_result(annotations)
    if truth is not None:
        if gold_result is not None and gold_result != truth:
            raise ResultError("gold_result differs from the result of the ground_truth annotation; give one answer")
        if is_gold is False:
            raise ResultError("is_gold is false but an annotation is marked ground_truth")
        gold_result = truth
    if is_gold is None:
        is_gold = gold_result is not None
    if is_gold and gold_result is None:
        raise ResultError("is_gold is true but there is no gold_result (the known answer) nor a ground_truth annotation")
    if not is_gold and gold_result is not None:
        raise ResultError("gold_result is given but is_gold is false")
    return is_gold, gold_result


def _ground_truth_result(annotations: list) -> list | None:
    truths = []
    for index, annotation in enumerate(annotations):
        flag = annotation.get("ground_truth", False)
        if not isinstance(flag, bool):
            raise ResultError(f"annotations[{index}].ground_truth must be true or false")
        if flag:
            if annotation.get("was_cancelled"):
                raise ResultError(f"annotations[{index}] is a skipped annotation and cannot be ground_truth")
            truths.append(annotation.get("result") or [])
    if any(result != truths[0] for result in truths[1:]):
        raise ResultError("two ground_truth annotations disagree; mark one")
    return truths[0] if truths else None


def check_storable(item: dict, where: str) -> None:
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


def _json_cells(config: LabelConfig) -> dict[str, ObjectTag]:
    """The data fields whose CSV/TSV cells hold JSON (a <Paragraphs> dialogue, a <List>), with their object."""
    return {obj.data_field: obj for obj in config.objects.values() if object_type(obj.tag).cell_example(obj) is not None}


def _read_tabular(name: str, stream: BinaryIO, delimiter: str,
                  json_cells: dict[str, ObjectTag]) -> Iterator[tuple[str, object]]:
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
            where = f"{name}: line {reader.line_num}"
            yield f"line {reader.line_num}", _tabular_task(_parsed_cells(dict(zip(header, row)), json_cells, where), where)
    except UnicodeDecodeError:
        raise ImportError_(f"{name}: not UTF-8 text") from None
    except csv.Error as exc:
        raise ImportError_(f"{name}: malformed CSV: {exc}") from None
    finally:
        text.detach()


def _parsed_cells(row: dict, json_cells: dict[str, ObjectTag], where: str) -> dict:
    """The row with its JSON cells parsed; the data's own check (validate_data) then refuses a wrong shape."""
    for column, obj in json_cells.items():
        if column not in row:
            continue
        try:
            row[column] = _strict_json_loads(row[column])
        except (ValueError, RecursionError) as exc:
            reason = "is empty" if not row[column].strip() else f"is not JSON ({_describe_json_error(exc)})"
            raise ImportError_(f'{where}, column "{column}": the cell {reason}; <{obj.tag} name="{obj.name}"> takes '
                               f"a JSON list in it, like {object_type(obj.tag).cell_example(obj)}") from None
    return row


def _tabular_task(row: dict, where: str) -> dict:
    """A CSV/TSV row as a task: the is_gold and gold_result columns (a JSON result list) are the task's, the
    rest is its data."""
    if not any(column in row for column in TABULAR_TASK_COLUMNS):
        return {"data": row}
    task: dict = {"data": {key: value for key, value in row.items() if key not in TABULAR_TASK_COLUMNS}}
    flag = row.get("is_gold", "").strip().lower()
    if flag not in TABULAR_TRUE | TABULAR_FALSE:
        raise ImportError_(f"{where}: is_gold must be true or false, not {row['is_gold']!r}")
    if flag:
        task["is_gold"] = flag in TABULAR_TRUE
    if row.get("gold_result", "").strip():
        try:
            task["gold_result"] = _strict_json_loads(row["gold_result"])
        except (ValueError, RecursionError) as exc:
            raise ImportError_(f"{where}: gold_result is not JSON ({_describe_json_error(exc)})") from None
    return task


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


