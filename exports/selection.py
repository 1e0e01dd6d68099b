"""Which tasks an export holds, with which of their annotations, streamed in chunks of task ids.

One keyset query per chunk for the tasks (`id > last ORDER BY id`, on the (project, id) index), one for the
chunk's annotations and, for the formats that carry them, one for its predictions: never a query per task.
Each task comes out as a plain record in Label Studio's task shape, which is what the engine's writers read.
"""
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Callable, Iterator

from django.db import connection, transaction
from django.db.models import CharField, Exists, F, Func, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast

from projects.models import Annotation, Prediction, Project, Task

from .engine.json_tasks import loads, raw
from .read_ahead import forget_snapshot, read_ahead, share_snapshot

CHUNK_SIZE = 2000

# annotations=: what a task's exported labels are.
FINAL = "final"  # reviewed result if reviewed, else consensus result if any, else every annotation (default)
ALL = "all"  # every annotation
CONSENSUS = "consensus"  # the consensus result, for tasks that have one
REVIEWED = "reviewed"  # the reviewer's result, for reviewed tasks
ANNOTATION_MODES = (FINAL, ALL, CONSENSUS, REVIEWED)
# tasks=: which tasks.
LABELED, FINISHED, EVERY = "labeled", "finished", "all"
TASK_SCOPES = (LABELED, FINISHED, EVERY)

TASK_FIELDS = ("id", "is_finished", "agreement", "consensus_confidence", "consensus_method", "reviewed_by_id")
ANNOTATION_FIELDS = ("id", "task_id", "completed_by_id", "lead_time")
PREDICTION_FIELDS = ("id", "task_id", "model_version", "score")


@dataclass(frozen=True)
class ExportFilters:
    annotations: str = FINAL
    tasks: str = LABELED
    min_agreement: float | None = None
    annotator: int | None = None  # a user id: only tasks they annotated, and of annotations only theirs
    annotated_after: datetime | None = None  # annotations created at or after
    annotated_before: datetime | None = None  # annotations created before

    @property
    def narrows_annotations(self) -> bool:
        return self.annotator is not None or self.annotated_after is not None or self.annotated_before is not None

    def as_json(self) -> dict:
        values = asdict(self)
        for name in ("annotated_after", "annotated_before"):
            values[name] = values[name].isoformat() if values[name] else None
        return values

    @classmethod
    def from_json(cls, values: dict) -> "ExportFilters":
        known = {field.name for field in fields(cls)}
        values = {name: value for name, value in values.items() if name in known}
        for name in ("annotated_after", "annotated_before"):
            if values.get(name):
                values[name] = datetime.fromisoformat(values[name])
        return cls(**values)


def matching_annotations(filters: ExportFilters) -> QuerySet[Annotation]:
    """Submitted annotations that pass the annotator and date filters (skipped ones carry no labels)."""
    annotations = Annotation.objects.filter(was_cancelled=False)
    if filters.annotator is not None:
        annotations = annotations.filter(completed_by_id=filters.annotator)
    if filters.annotated_after is not None:
        annotations = annotations.filter(created_at__gte=filters.annotated_after)
    if filters.annotated_before is not None:
        annotations = annotations.filter(created_at__lt=filters.annotated_before)
    return annotations


def selected_tasks(project: Project, filters: ExportFilters) -> QuerySet[Task]:
    tasks = Task.objects.filter(project=project)
    if filters.min_agreement is not None:
        tasks = tasks.filter(agreement__gte=filters.min_agreement)
    if filters.tasks == FINISHED:
        tasks = tasks.filter(is_finished=True)
    if filters.annotations == CONSENSUS:
        tasks = tasks.filter(consensus_result__isnull=False)
    elif filters.annotations == REVIEWED:
        tasks = tasks.filter(reviewed_result__isnull=False)
    if filters.narrows_annotations:
        return tasks.filter(Exists(matching_annotations(filters).filter(task_id=OuterRef("pk"))))
    if filters.tasks == LABELED and filters.annotations in (FINAL, ALL):
        labeled = Q(annotation_count__gt=0)
        if filters.annotations == FINAL:
            labeled |= Q(consensus_result__isnull=False) | Q(reviewed_result__isnull=False)
        tasks = tasks.filter(labeled)
    return tasks


def count_selected(project: Project, filters: ExportFilters) -> int:
    if filters == ExportFilters(tasks=EVERY):
        return project.task_count  # the project's counter is exact: no need to count a million rows
    return selected_tasks(project, filters).count()


def task_record_chunks(
    project: Project, filters: ExportFilters, *, with_predictions: bool, raw_json: bool = False, chunk_size: int | None = None,
) -> Iterator[list[dict]]:
    """The selected tasks as Label Studio task records, in id order, a list per chunk.

    With `raw_json`, the JSON columns (data, meta, results) stay the database's text, wrapped to be written
    as they are: the JSON formats only copy them, and parsing them to write them again was a third of the work.
    """
    return read_ahead(lambda: _chunks(project, filters, with_predictions, raw_json, chunk_size or CHUNK_SIZE))


def _chunks(project: Project, filters: ExportFilters, with_predictions: bool, raw_json: bool,
            chunk_size: int) -> Iterator[list[dict]]:
    json_value = raw if raw_json else loads
    tasks = selected_tasks(project, filters).order_by("id").values(
        *TASK_FIELDS, **_timestamps("created_at", "updated_at", "reviewed_at"),
        **_json_text("data", "meta", "consensus_result", "reviewed_result", "consensus_controls"),
    )
    last_id = 0
    while rows := list(tasks.filter(id__gt=last_id)[:chunk_size]):
        last_id = rows[-1]["id"]
        # The per-control figures are small and read by the writers themselves (a preference line's agreement).
        rows = [_parsed(_parsed(row, json_value, "data", "meta", "consensus_result", "reviewed_result"), loads,
                        "consensus_controls") for row in rows]
        yield _records(project, rows, filters, with_predictions, json_value)


def _json_text(*names: str) -> dict[str, Cast]:
    """`{name}_json` for each JSON field named, as text: parsed by orjson, several times faster than Django's
    json.loads per value (see `_parsed`)."""
    return {f"{name}_json": Cast(name, TextField()) for name in names}


def _parsed(row: dict, json_value: Callable[[str | None], object], *names: str) -> dict:
    for name in names:
        row[name] = json_value(row.pop(f"{name}_json"))
    return row


class IsoTimestamp(Func):
    """A timestamp as ISO 8601 text in UTC, made by the database: psycopg's timestamptz parsing cost more than
    the rest of a JSON export put together, and the export wants the text anyway."""

    output_field = CharField()
    template = "CAST(%(expressions)s AS varchar(40))"  # elsewhere: the database's own text form

    def as_postgresql(self, compiler, connection, **extra):
        template = """to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores SQLite timestamps as UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]".
        return self.as_sql(compiler, connection, template="replace(%(expressions)s, ' ', 'T') || 'Z'", **extra)


def _timestamps(*names: str) -> dict[str, IsoTimestamp]:
    """`{name}_iso` for each timestamp field named."""
    return {f"{name}_iso": IsoTimestamp(F(name)) for name in names}


def _records(project: Project, rows: list[dict], filters: ExportFilters, with_predictions: bool, json_value: Callable) -> list[dict]:
    needing_annotations = [row["id"] for row in rows if _uses_annotations(row, filters)]
    annotations = _by_task(
        matching_annotations(filters).filter(task_id__in=needing_annotations).order_by("task_id", "id")
        .values(*ANNOTATION_FIELDS, **_timestamps("created_at", "updated_at"), **_json_text("result")), json_value,
    ) if needing_annotations else {}
    predictions = _by_task(
        Prediction.objects.filter(task_id__in=[row["id"] for row in rows]).order_by("task_id", "id")
        .values(*PREDICTION_FIELDS, **_timestamps("created_at"), **_json_text("result")), json_value,
    ) if with_predictions else None
    return [_record(project, row, filters, annotations, predictions) for row in rows]


def _uses_annotations(row: dict, filters: ExportFilters) -> bool:
    if filters.annotations == ALL:
        return True
    return filters.annotations == FINAL and row["reviewed_result"] is None and row["consensus_result"] is None


def _by_task(rows, json_value: Callable) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row.pop("task_id"), []).append(_parsed(row, json_value, "result"))
    return grouped


def _record(project: Project, row: dict, filters: ExportFilters, annotations: dict, predictions: dict | None) -> dict:
    record = {
        "id": row["id"], "project": project.pk, "data": row["data"], "meta": row["meta"],
        "created_at": row["created_at_iso"], "updated_at": row["updated_at_iso"], "is_finished": row["is_finished"],
        "annotations": _labels(row, filters, annotations.get(row["id"], [])),
    }
    if row["agreement"] is not None:
        record["agreement"] = row["agreement"]
    if row["consensus_confidence"] is not None:
        record["confidence"] = row["consensus_confidence"]
    if row["consensus_result"] is not None:
        record["consensus"] = {"result": row["consensus_result"], "agreement": row["agreement"],
                               "confidence": row["consensus_confidence"], "method": row["consensus_method"],
                               "controls": row["consensus_controls"] or {}}
    if predictions is not None:
        record["predictions"] = [_prediction(item) for item in predictions.get(row["id"], [])]
    return record


def _labels(row: dict, filters: ExportFilters, annotations: list[dict]) -> list[dict]:
    """The task's exported annotations: its reviewed or consensus result stands in for them where the mode asks."""
    mode = filters.annotations
    if mode in (FINAL, REVIEWED) and row["reviewed_result"] is not None:
        when = row["reviewed_at_iso"] or row["updated_at_iso"]
        return [_merged("review", row["reviewed_result"], row["reviewed_by_id"], when)]
    if mode in (FINAL, CONSENSUS) and row["consensus_result"] is not None:
        return [_merged("consensus", row["consensus_result"], None, row["updated_at_iso"])]
    if mode in (FINAL, ALL):
        return [_annotation(item) for item in annotations]
    return []


def _prediction(item: dict) -> dict:
    return {
        "id": item["id"], "model_version": item["model_version"], "score": item["score"], "result": item["result"],
        "created_at": item["created_at_iso"],
    }


def _merged(origin: str, result: list, completed_by: int | None, when: str) -> dict:
    return {
        "id": None, "origin": origin, "completed_by": completed_by, "result": result, "created_at": when,
        "updated_at": when, "lead_time": None, "was_cancelled": False,
    }


def _annotation(item: dict) -> dict:
    return {
        "id": item["id"], "origin": "annotation", "completed_by": item["completed_by_id"], "result": item["result"],
        "created_at": item["created_at_iso"], "updated_at": item["updated_at_iso"], "lead_time": item["lead_time"],
        "was_cancelled": False,
    }


@contextmanager
def consistent_reads():
    """On PostgreSQL, read every chunk from one snapshot of the database (REPEATABLE READ, read-only), so an
    export made while annotators work is still one coherent dataset; the snapshot is shared with the reader that
    reads the next chunks ahead (read_ahead.py). Elsewhere, or inside an outer transaction (tests), reads are as
    they are, in line."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        share_snapshot()  # the chunks are read ahead on this very snapshot (read_ahead.py)
        try:
            yield
        finally:
            forget_snapshot()
