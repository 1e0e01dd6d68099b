"""Changes a project's managers make to one task (PATCH and DELETE /api/tasks/{id}/).

Each function owns its transaction and locks the task row first, in the order the annotation services take
their locks (task, then project), so the project's counters stay exact under concurrent submissions.
"""
from django.db import transaction
from django.db.models import F

from .imports.image_urls import ImageUrlPolicy
from .imports.readers import ImportError_, check_storable
from .label_config import LabelConfig, ResultError, validate_result, validate_task_data
from .models import Annotation, Prediction, Project, Task
from .services import project_config

EDITABLE_FIELDS = ("data", "meta", "is_gold", "gold_result")


class InvalidTaskChange(ValueError):
    """A change that would leave the task inconsistent; `field` names the part of the request at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@transaction.atomic
def update_task(*, task: Task, changes: dict) -> Task:
    """Apply a manager's change of the task's data, meta, or gold status and answer."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidTaskChange(sorted(unknown)[0], f"is not a field a task change may set ({', '.join(EDITABLE_FIELDS)})")
    for name in ("data", "meta", "gold_result"):
        try:
            check_storable({name: changes.get(name)}, name)
        except ImportError_ as exc:
            raise InvalidTaskChange(name, str(exc)) from None
    current = Task.objects.select_for_update().select_related("project").get(pk=task.pk)
    config = project_config(current.project)
    data = changes.get("data", current.data)
    if "data" in changes:
        _check_data(current, config, data)
    _check_gold(config, data, changes.get("is_gold", current.is_gold), changes.get("gold_result", current.gold_result))
    for name, value in changes.items():
        setattr(current, name, value)
    current.save(update_fields=[*changes, "updated_at"])
    return current


@transaction.atomic
def delete_task(*, task: Task) -> None:
    """Delete the task with its annotations and predictions; the project's counters lose what it counted."""
    current = Task.objects.select_for_update().filter(pk=task.pk).first()
    if current is None:
        return
    current.delete()
    Project.objects.filter(pk=current.project_id).update(
        task_count=F("task_count") - 1,
        finished_task_count=F("finished_task_count") - int(current.is_finished),
        annotation_count=F("annotation_count") - current.annotation_count,
    )


def _check_data(task: Task, config: LabelConfig, data) -> None:
    """New data must fit the config and the image URL rules, and still fit the work already done on it (a span's
    offsets point into the old text)."""
    try:
        validate_task_data(config, data)
        ImageUrlPolicy.for_project(task.project_id).check(config, data)
    except ResultError as exc:
        raise InvalidTaskChange("data", str(exc)) from None
    submitted = Annotation.objects.filter(task=task, was_cancelled=False).values_list("id", "result")
    for kind, rows in (("annotation", submitted), ("prediction", Prediction.objects.filter(task=task).values_list("id", "result"))):
        for row_id, result in rows:
            try:
                validate_result(config, data, result)
            except ResultError as exc:
                raise InvalidTaskChange("data", f"{kind} {row_id} would no longer fit the new data: {exc}") from None


def _check_gold(config: LabelConfig, data: dict, is_gold: bool, gold_result) -> None:
    if gold_result is not None:
        try:
            validate_result(config, data, gold_result)
        except ResultError as exc:
            raise InvalidTaskChange("gold_result", str(exc)) from None
    if is_gold and gold_result is None:
        raise InvalidTaskChange("gold_result", "a gold task needs gold_result, the known answer its annotators are scored against")
