"""Insert many task rows fast: COPY on PostgreSQL, bulk_create elsewhere.

Rows are plain tuples, not model instances: building 100,000 Django objects costs more than the COPY itself.
Ids are taken from the table's sequence first, so the caller can attach predictions and annotations.
Columns left out of the COPY (queue and consensus state) take their database defaults.
"""
import json
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from ..label_config import response_models
from ..models import Task

TASK_COLUMNS = (
    "id", "project_id", "data", "meta", "created_at", "updated_at", "is_gold", "gold_result",
    "annotation_count", "cancelled_count", "is_finished", "response_models",
)
EMPTY_JSON_OBJECT = "{}"


class TaskRow(NamedTuple):
    data: dict
    meta: dict
    annotation_count: int = 0
    cancelled_count: int = 0
    is_finished: bool = False
    is_gold: bool = False
    gold_result: list | None = None


def insert_tasks(project_id: int, rows: list[TaskRow]) -> list[int]:
    """Insert task rows into a project; return their new ids in order."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        tasks = [Task(project_id=project_id, response_models=response_models(row.data), **row._asdict()) for row in rows]
        Task.objects.bulk_create(tasks, batch_size=len(tasks))
        return [task.pk for task in tasks]
    return _copy_tasks(project_id, rows)


def _copy_tasks(project_id: int, rows: list[TaskRow]) -> list[int]:
    now = timezone.now()
    table = Task._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(rows)])
        ids = [row[0] for row in cursor.fetchall()]
        with cursor.connection.cursor().copy(f"COPY {table} ({', '.join(TASK_COLUMNS)}) FROM STDIN") as copy:
            for task_id, row in zip(ids, rows):
                copy.write_row((
                    task_id, project_id, json.dumps(row.data), json.dumps(row.meta) if row.meta else EMPTY_JSON_OBJECT,
                    now, now, row.is_gold, None if row.gold_result is None else json.dumps(row.gold_result),
                    row.annotation_count, row.cancelled_count, row.is_finished, _json_or_null(response_models(row.data)),
                ))
    return ids


def _json_or_null(value) -> str | None:
    return None if value is None else json.dumps(value)
