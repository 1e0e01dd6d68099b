"""Write predictions without duplicates, and keep each task's uncertainty (the active-learning order) in step.

A task has at most one prediction per model version from a pre-labeling run: a second run updates it in place,
so annotations that point at it keep their link and a re-run of a chunk writes the same rows once.
"""
from typing import Iterable, NamedTuple

from django.db.models import FloatField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from .models import Prediction, Task

WRITE_BATCH = 1000


class PredictionRow(NamedTuple):
    task_id: int
    model_version: str
    score: float | None
    result: list
    details: dict = {}  # never mutated: rows are written as they are


def store_predictions(project_id: int, rows: list[PredictionRow]) -> None:
    """Insert or update one prediction per (task, model version), then refresh those tasks' uncertainty.
    Call inside a transaction: the tasks' rows are locked (in id order, so writers never deadlock) until it ends,
    so two jobs writing the same tasks cannot both insert."""
    if not rows:
        return
    task_ids = {row.task_id for row in rows}
    list(Task.objects.select_for_update().filter(pk__in=task_ids).order_by("id").values_list("id", flat=True))
    existing = _existing_prediction_ids(task_ids, {row.model_version for row in rows})
    updates, inserts = [], []
    for row in rows:
        prediction_id = existing.get((row.task_id, row.model_version))
        fields = {"task_id": row.task_id, "project_id": project_id, "model_version": row.model_version,
                  "score": row.score, "result": row.result, "details": row.details}
        (updates if prediction_id else inserts).append(Prediction(pk=prediction_id, **fields))
    Prediction.objects.bulk_create(inserts, batch_size=WRITE_BATCH)
    Prediction.objects.bulk_update(updates, ["score", "result", "details"], batch_size=WRITE_BATCH)
    refresh_uncertainty(task_ids)


def _existing_prediction_ids(task_ids: set[int], versions: set[str]) -> dict[tuple[int, str], int]:
    """(task, version) -> the oldest such prediction; extra copies (imported twice, say) are deleted."""
    found: dict[tuple[int, str], int] = {}
    extra: list[int] = []
    rows = Prediction.objects.filter(task_id__in=task_ids, model_version__in=versions).order_by("id")
    for prediction_id, task_id, version in rows.values_list("id", "task_id", "model_version"):
        if (task_id, version) in found:
            extra.append(prediction_id)
        else:
            found[(task_id, version)] = prediction_id
    if extra:
        Prediction.objects.filter(pk__in=extra).delete()
    return found


def refresh_uncertainty(task_ids: Iterable[int]) -> None:
    """Task.uncertainty = 1 - score of the task's newest prediction (0 when it has none, or no score): one UPDATE."""
    newest_score = Prediction.objects.filter(task=OuterRef("pk")).order_by("-id").values("score")[:1]
    Task.objects.filter(pk__in=list(task_ids)).update(
        uncertainty=Coalesce(Value(1.0) - Subquery(newest_score, output_field=FloatField()), Value(0.0))
    )
