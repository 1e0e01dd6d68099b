"""JSON_MIN and CSV: one flat row per task, for pandas and spreadsheets.

A row holds the task's id and data fields, one column per control with its answer, and where that answer came
from. When the export holds several annotations of a task (no consensus yet, or `annotations=all`), a control's
column holds the list of their answers, in the order of `annotation_ids`.

CSV is spreadsheet-safe by default (OWASP's "CSV injection"): a text cell starting with = + - @ TAB or CR gets a
leading single quote, so Excel or LibreOffice show it as text instead of running it as a formula
(`=HYPERLINK(...)`). Numbers written from numeric values (a task id, an agreement, a data field holding -3) stay
numbers: a spreadsheet reads them as constants, and prefixing them would turn them into text for pandas too.
`csv_safe=False` writes every cell verbatim, for consumers that are programs, not spreadsheets.
"""
import csv
import io
import json
from typing import Iterable, Iterator

from .context import ExportContext
from .json_tasks import dumps
from .results import control_value

BOOKKEEPING_COLUMNS = ("origin", "annotation_ids", "annotators", "agreement", "confidence")
# What a spreadsheet takes as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def task_row(task: dict, context: ExportContext) -> dict:
    annotations = task["annotations"]
    row = {"id": task["id"], **task["data"]}
    row["id"] = task["id"]  # a data field called "id" does not hide the task's (Label Studio does the same)
    for control in context.config.controls.values():
        answers = [control_value(annotation, control) for annotation in annotations]
        row[control.name] = answers[0] if len(answers) == 1 else (answers or None)
    row["origin"] = annotations[0]["origin"] if annotations else None
    row["annotation_ids"] = [annotation["id"] for annotation in annotations]
    row["annotators"] = [annotation["completed_by"] for annotation in annotations]
    row["agreement"] = task.get("agreement")
    row["confidence"] = task.get("confidence")
    return row


def write_json_min(tasks: Iterable[dict], context: ExportContext) -> Iterator[bytes]:
    separator = b"[\n"
    for task in tasks:
        yield separator + dumps(task_row(task, context))
        separator = b",\n"
    yield b"[]\n" if separator == b"[\n" else b"\n]\n"


def csv_columns(context: ExportContext) -> list[str]:
    """Fixed up front, so rows stream: data fields the config names (others are in JSON_MIN), then controls."""
    data_fields = list(dict.fromkeys(obj.data_field for obj in context.config.objects.values()))
    return ["id", *data_fields, *context.config.controls, *BOOKKEEPING_COLUMNS]


def write_csv(tasks: Iterable[dict], context: ExportContext) -> Iterator[bytes]:
    columns = csv_columns(context)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    safe = context.csv_safe
    writer.writerow([_neutralised(column) if safe else column for column in columns])
    for task in tasks:
        row = task_row(task, context)
        writer.writerow([csv_cell(row.get(column), safe) for column in columns])
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode()


def csv_cell(value, safe: bool) -> str:
    """One CSV cell: None empty, numbers as they are, text spreadsheet-safe when `safe`, anything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)  # a number, even a negative one, is no formula
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return _neutralised(text) if safe else text


def _neutralised(text: str) -> str:
    """The text a spreadsheet shows as typed: a would-be formula gets a leading single quote."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
