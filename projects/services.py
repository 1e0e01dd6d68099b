"""State changes for projects, members, tasks and annotations. Each function owns its transaction.

Counters on Task and Project move in the same transaction as the rows they count, through F() updates, so
they stay exact under concurrent submissions and cost nothing to read.
"""
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from . import events
from .label_config import LabelConfig, check_required_controls, parse_label_config, validate_result
from .models import Annotation, JudgeCheck, Prediction, Project, ProjectMember, ReviewStatus, Role, Task
from .provenance import share_changed
from .queue import release_lease_on_submit


class Conflict(Exception):
    """A write based on a stale version of an annotation (HTTP 409)."""


class LastManager(Exception):
    """Removing or demoting this member would leave the project without a manager (HTTP 400)."""


class IdempotencyKeyReused(Exception):
    """An Idempotency-Key sent again with a different request (HTTP 422)."""


class AlreadyAnnotated(Exception):
    """The annotator already has an annotation on this task (HTTP 409); it is attached."""

    def __init__(self, annotation: Annotation):
        super().__init__(f"You already annotated task {annotation.task_id}: PATCH /api/annotations/{annotation.pk}/ to change it.")
        self.annotation = annotation


@dataclass
class ImportCounts:
    task_count: int = 0
    annotation_count: int = 0
    prediction_count: int = 0

    def as_dict(self) -> dict:
        return {"task_count": self.task_count, "annotation_count": self.annotation_count, "prediction_count": self.prediction_count}


def project_config(project: Project) -> LabelConfig:
    return parse_label_config(project.label_config)


# What a manager sets on a project, through the API and the admin alike; everything else is kept by the services.
PROJECT_SETTINGS = (
    "title", "label_config", "description", "instructions", "overlap", "lease_minutes", "queue_order",
    "annotators_can_export", "aggregation_method", "agreement_threshold", "adaptive_overlap", "max_overlap", "blind",
    "show_collab_predictions",
    "gold_share", "review_sample_rate", "iou_threshold", "box_fusion",
)


def _unknown_settings(values: dict) -> None:
    unknown = sorted(set(values) - set(PROJECT_SETTINGS))
    if unknown:
        raise TypeError(f"not project settings: {', '.join(unknown)}")


@transaction.atomic
def create_user(*, username: str, password: str, **fields):
    """A new account with a hashed password (checked by the caller against the password validators)."""
    return get_user_model().objects.create_user(username=username, password=password, **fields)


def create_project(*, creator, title: str, label_config: str, **settings) -> Project:
    """A new project managed by its creator. Any of PROJECT_SETTINGS may be given; every rule the model knows
    (each field's range, the rules between fields, the label config) is checked first: ValidationError naming
    the field."""
    _unknown_settings(settings)
    project = Project(title=title, label_config=label_config, created_by=creator, **settings)
    project.full_clean(exclude=["created_by"])
    project.save()
    ProjectMember.objects.create(project=project, user=creator, role=Role.MANAGER)
    return project


@transaction.atomic
def update_project(*, project: Project, changes: dict) -> Project:
    """Apply a manager's changes to PROJECT_SETTINGS, checked as create_project checks them, on the current row."""
    _unknown_settings(changes)
    current = Project.objects.select_for_update().get(pk=project.pk)
    overlap_changed = "overlap" in changes and changes["overlap"] != current.overlap
    for name, value in changes.items():
        setattr(current, name, value)
    current.full_clean(exclude=["created_by"])
    current.save(update_fields=[*changes, "updated_at"])
    if overlap_changed:
        # A task a confident judge left to one check still needs one person, whatever the overlap now is.
        Task.objects.filter(project=current, judge_check__in=[JudgeCheck.PENDING, JudgeCheck.AGREED]).update(
            extra_annotations=1 - current.overlap)
        refresh_finished_tasks(current)
        current.refresh_from_db(fields=["finished_task_count"])
    return current


def refresh_finished_tasks(project: Project) -> None:
    """Re-derive every task's finished flag after the overlap changed: two set-based UPDATEs and one count."""
    tasks = Task.objects.filter(project=project).alias(needed=F("extra_annotations") + project.overlap)
    tasks.filter(is_finished=False, annotation_count__gte=F("needed")).update(is_finished=True)
    tasks.filter(is_finished=True, annotation_count__lt=F("needed")).update(is_finished=False)
    Project.objects.filter(pk=project.pk).update(finished_task_count=tasks.filter(is_finished=True).count())


def count_new_task(task: Task) -> None:
    """Count a task added one at a time (the admin's add form); imports count theirs in bulk."""
    Project.objects.filter(pk=task.project_id).update(
        task_count=F("task_count") + 1, finished_task_count=F("finished_task_count") + int(task.is_finished)
    )


def recount_project(project: Project) -> None:
    """Recompute every counter from the rows (after bulk deletes in the admin, or to repair drift)."""
    with transaction.atomic():
        Task.objects.filter(project=project).update(
            annotation_count=_annotations_per_task(was_cancelled=False),
            cancelled_count=_annotations_per_task(was_cancelled=True),
        )
        refresh_finished_tasks(project)
        Project.objects.filter(pk=project.pk).update(
            task_count=Task.objects.filter(project=project).count(),
            annotation_count=Annotation.objects.filter(project=project, was_cancelled=False).count(),
        )


def _annotations_per_task(*, was_cancelled: bool):
    per_task = (
        Annotation.objects.filter(task=OuterRef("pk"), was_cancelled=was_cancelled)
        .order_by().values("task").annotate(total=Count("id")).values("total")
    )
    return Coalesce(Subquery(per_task), 0)


@transaction.atomic
def add_member(*, project: Project, user, role: str) -> ProjectMember:
    if role != Role.MANAGER:
        _keep_another_manager(project, user)
    member, _ = ProjectMember.objects.update_or_create(project=project, user=user, defaults={"role": role})
    return member


@transaction.atomic
def remove_member(*, project: Project, user) -> bool:
    _keep_another_manager(project, user)
    deleted, _ = ProjectMember.objects.filter(project=project, user=user).delete()
    return bool(deleted)


def _keep_another_manager(project: Project, leaving) -> None:
    """Refuse to remove or demote the project's last manager: nobody but a superuser could manage it afterwards."""
    Project.objects.select_for_update().filter(pk=project.pk).first()  # serialise concurrent membership changes
    managers = ProjectMember.objects.filter(project=project, role=Role.MANAGER)
    if managers.filter(user=leaving).exists() and not managers.exclude(user=leaving).exists():
        raise LastManager(f"Project {project.pk} needs at least one manager; add another manager first.")


def submit_annotation(
    *, task: Task, author, result: list, lead_time: float | None = None, was_cancelled: bool = False,
    cancel_reason: str = "", idempotency_key: str | None = None, prediction: Prediction | None = None,
) -> tuple[Annotation, bool]:
    """Store an annotator's annotation; answer (annotation, created).

    A retry with the same idempotency key returns the first annotation. A second annotation by the same author
    on the same task raises AlreadyAnnotated; the database's unique constraints are the last guard for both.
    `prediction` is the one the annotator started from (one of the task's); how much they changed is stored.
    """
    if idempotency_key:
        earlier = Annotation.objects.filter(completed_by=author, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return _replay(earlier, task), False
    if not was_cancelled:
        config = project_config(task.project)
        validate_result(config, task.data, result)
        check_required_controls(config, result)
    try:
        with transaction.atomic():
            annotation = Annotation.objects.create(
                task=task, project_id=task.project_id, completed_by=author, result=result or [],
                lead_time=lead_time, was_cancelled=was_cancelled, cancel_reason=cancel_reason, idempotency_key=idempotency_key,
                **provenance(prediction, result, was_cancelled=was_cancelled),
            )
            # Before the task row's lock, in the order the lease sweeper takes its locks.
            if author is not None:
                release_lease_on_submit(task_id=task.pk, user=author)
            _move_task_counters(task.pk, submitted=0 if was_cancelled else 1, cancelled=1 if was_cancelled else 0)
            events.annotations_changed.announce(task_id=task.pk)
            if not was_cancelled:
                events.annotation_submitted.announce(project_id=task.project_id, annotation_id=annotation.pk)
    except IntegrityError:
        existing = _existing_annotation(task, author, idempotency_key)
        if existing is None:
            raise
        if idempotency_key and existing.idempotency_key == idempotency_key:
            return _replay(existing, task), False
        raise AlreadyAnnotated(existing) from None
    return annotation, True


def provenance(prediction: Prediction | None, result: list, *, was_cancelled: bool = False) -> dict:
    """The annotation's fields that record which prediction it started from and how much of it was changed."""
    if prediction is None:
        return {}
    changed = None if was_cancelled else share_changed(prediction.result, result)
    return {
        "prediction": prediction, "prediction_model_version": prediction.model_version,
        "prediction_changed": changed, "accepted_unchanged": None if changed is None else changed == 0,
    }


def _changed_provenance(current: Annotation, changes: dict) -> dict:
    """Provenance after an edit: measured again against the prediction it started from (or now names)."""
    if not {"result", "prediction", "was_cancelled"} & set(changes):
        return {}
    prediction = changes["prediction"] if "prediction" in changes else current.prediction
    if prediction is None and "prediction" in changes:  # the client says it no longer started from one
        return {"prediction_model_version": "", "prediction_changed": None, "accepted_unchanged": None}
    result = changes.get("result", current.result)
    return provenance(prediction, result, was_cancelled=changes.get("was_cancelled", current.was_cancelled))


def _replay(earlier: Annotation, task: Task) -> Annotation:
    """The annotation a retry gets back; a key first used on another task is a client bug, not a retry."""
    if earlier.task_id != task.pk:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {earlier.idempotency_key!r} was already used for task {earlier.task_id}; "
            "send a new key for a new submission."
        )
    return earlier


def _existing_annotation(task: Task, author, idempotency_key: str | None) -> Annotation | None:
    if idempotency_key:
        keyed = Annotation.objects.filter(completed_by=author, idempotency_key=idempotency_key).first()
        if keyed is not None:
            return keyed
    return Annotation.objects.filter(task=task, completed_by=author).first()


def update_annotation(*, annotation: Annotation, changes: dict, expected_version: int | None) -> Annotation:
    """Apply a PATCH. With expected_version, a concurrent change since that version raises Conflict."""
    with transaction.atomic():
        current = Annotation.objects.select_for_update().select_related("task", "project").get(pk=annotation.pk)
        if expected_version is not None and expected_version != current.version:
            raise Conflict(
                f"Annotation {current.pk} changed since you loaded it (you have version {expected_version}, "
                f"it is at version {current.version}); reload it and apply your edit again."
            )
        was_cancelled = changes.get("was_cancelled", current.was_cancelled)
        # A skip's result was never checked, so un-skipping checks the result it keeps as well as a new one.
        if not was_cancelled and ("result" in changes or current.was_cancelled):
            validate_result(project_config(current.project), current.task.data, changes.get("result", current.result))
        moved = int(current.was_cancelled) - int(was_cancelled)
        changes = {**changes, **_changed_provenance(current, changes)}
        for name, value in changes.items():
            setattr(current, name, value)
        current.version = F("version") + 1
        current.save(update_fields=[*changes, "version", "updated_at"])
        if moved:
            _move_task_counters(current.task_id, submitted=moved, cancelled=-moved)
        events.annotations_changed.announce(task_id=current.task_id)
        current.refresh_from_db()
        return current


def delete_annotation(*, annotation: Annotation) -> None:
    with transaction.atomic():
        # Re-read under lock: a concurrent edit may have skipped or un-skipped it since the caller loaded it.
        current = Annotation.objects.select_for_update().filter(pk=annotation.pk).first()
        if current is None:
            return
        current.delete()
        cancelled = 1 if current.was_cancelled else 0
        _move_task_counters(current.task_id, submitted=cancelled - 1, cancelled=-cancelled)
        events.annotations_changed.announce(task_id=current.task_id)


def let_one_check_stand_for_overlap(*, project_id: int, task_ids: list[int]) -> int:
    """A confident LLM judge answered these tasks: each needs one human check instead of the project's overlap
    (the quality app compares the check with the judge and restores the overlap when they differ). Only tasks
    nobody has answered yet and no review or earlier change has touched; gold tasks go to everyone anyway.
    Answers how many it changed."""
    overlap = Project.objects.filter(pk=project_id).values_list("overlap", flat=True).first()
    if not overlap or overlap < 2 or not task_ids:
        return 0
    return Task.objects.filter(
        project_id=project_id, pk__in=task_ids, annotation_count=0, extra_annotations=0, is_gold=False,
        judge_check=JudgeCheck.NONE, review_status=ReviewStatus.NONE,
    ).update(extra_annotations=1 - overlap, judge_check=JudgeCheck.PENDING)


def settle_judge_check(*, task_id: int, agreed: bool) -> None:
    """The human check of a judge-answered task: it agreed (one person stood for the overlap), or it did not and
    the task needs the project's full overlap again."""
    with transaction.atomic():
        task = Task.objects.select_for_update().only("judge_check", "extra_annotations").get(pk=task_id)
        if task.judge_check != JudgeCheck.PENDING:
            return
        outcome = JudgeCheck.AGREED if agreed else JudgeCheck.DISAGREED
        Task.objects.filter(pk=task_id).update(judge_check=outcome)
        if not agreed:
            ask_for_more_annotations(task_id=task_id, count=-task.extra_annotations)


def ask_for_more_annotations(*, task_id: int, count: int = 1) -> None:
    """Raise how many annotators the task needs (adaptive overlap, a rejected review); it reopens if finished."""
    with transaction.atomic():
        Task.objects.filter(pk=task_id).update(extra_annotations=F("extra_annotations") + count)
        _move_task_counters(task_id, submitted=0, cancelled=0)


def _move_task_counters(task_id: int, *, submitted: int, cancelled: int) -> None:
    """Add to a task's counters, flip its finished flag at the overlap, and move its project's counters."""
    task = Task.objects.select_for_update().select_related("project").only(
        "annotation_count", "cancelled_count", "is_finished", "extra_annotations", "project__overlap"
    ).get(pk=task_id)
    task.annotation_count += submitted
    task.cancelled_count += cancelled
    finished = task.annotation_count >= task.project.overlap + task.extra_annotations
    finished_delta = int(finished) - int(task.is_finished)
    task.is_finished = finished
    task.save(update_fields=["annotation_count", "cancelled_count", "is_finished", "updated_at"])
    if submitted or finished_delta:
        Project.objects.filter(pk=task.project_id).update(
            annotation_count=F("annotation_count") + submitted,
            finished_task_count=F("finished_task_count") + finished_delta,
        )
