"""RATINGS_CSV: one row per rating, that is per task x response x <Rating> control x exported annotation.

Columns: `task_id`, `control`, `object`, `response` (the object's name, or the <List> item's id), `model`,
`rating`, `max_rating`, `origin` (annotation, consensus or review), `annotator` (a user id; empty for a
consensus or review result) and the `agreement` of the task's consensus on that control. Spreadsheet-safe like CSV (`csv_safe`).
"""
import csv
import io
from typing import Iterable, Iterator

from .context import ExportContext
from .genai import RATING, GenAIConfig, Rated
from .results import controls_agreement
from .tables import csv_cell

COLUMNS = ("task_id", "control", "object", "response", "model", "rating", "max_rating", "origin", "annotator", "agreement")


def write_ratings_csv(tasks: Iterable[dict], context: ExportContext) -> Iterator[bytes]:
    genai = GenAIConfig.of(context.config)
    controls = genai.of_type(RATING)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for task in tasks:
        for annotation in task["annotations"]:
            for control in controls:
                for rated in genai.ratings(control, annotation, task["data"]):
                    writer.writerow([csv_cell(value, context.csv_safe) for value in rating_row(task, annotation, rated)])
                    context.counts["ratings"] += 1
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode()


def rating_row(task: dict, annotation: dict, rated: Rated) -> tuple:
    response, control = rated.response, rated.control
    return (
        task["id"], control.name, response.object, response.id, response.model, rated.rating,
        control.options.get("max_rating"), annotation.get("origin"), annotation.get("completed_by"),
        controls_agreement(task, [control.name]),
    )
