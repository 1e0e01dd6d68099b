"""What the rest of Labeler calls when labels or tasks arrive. Light on purpose: imported by projects.services,
so it loads no model code; each hook costs one or two UPDATEs and queues work for after the commit."""
import logging

from django.db import transaction
from django.db.models import F

from .models import PRETRAINED_ENGINES, Engine, ProjectModel, TrainingState

logger = logging.getLogger(__name__)


def annotation_saved(project_id: int, annotation_id: int) -> None:
    """Count a new annotation towards the next retraining, and queue it when due (two UPDATEs); tell an ML
    backend that asked for annotation events. A project without a model (most of them) costs one read."""
    model = ProjectModel.objects.filter(project_id=project_id).only("engine", "retrain_every", "annotation_events").first()
    if model is None:
        return
    if model.retrain_every > 0 and model.engine not in PRETRAINED_ENGINES:
        ProjectModel.objects.filter(pk=model.pk).update(new_labels=F("new_labels") + 1)
        retrain_if_due(project_id)
    if model.engine == Engine.HTTP and model.annotation_events:
        _send_after_commit("prelabel_annotation_event", annotation_id)


def _send_after_commit(task_name: str, *args, on_failure=None) -> None:
    """Queue a worker task once the caller's transaction commits. A broker that cannot be reached is logged (and
    handed to on_failure) but never fails the request that saved the annotation."""

    def send() -> None:
        from workers import tasks

        try:
            getattr(tasks, task_name).delay(*args)
        except Exception as exc:  # kombu's errors differ by transport
            logger.exception("could not queue %s%s", task_name, args)
            if on_failure:
                on_failure(exc)

    transaction.on_commit(send)


def retrain_if_due(project_id: int) -> None:
    due = ProjectModel.objects.filter(
        project_id=project_id, training_state=TrainingState.IDLE, retrain_every__gt=0, new_labels__gte=F("retrain_every")
    )
    if due.update(training_state=TrainingState.QUEUED, new_labels=0):
        queue_training(project_id)


def queue_training(project_id: int, then_plan_job: int | None = None) -> None:
    """Send the training task once the caller's transaction commits. When it cannot be sent the model goes back to
    idle with that reason, so the next annotation tries again."""

    def back_to_idle(exc: Exception) -> None:
        ProjectModel.objects.filter(project_id=project_id, training_state=TrainingState.QUEUED).update(
            training_state=TrainingState.IDLE, training_error=f"could not queue the training: {exc}"
        )

    _send_after_commit("prelabel_train", project_id, then_plan_job, on_failure=back_to_idle)


def tasks_imported(project_id: int) -> None:
    """After an import commits: pre-label the tasks without predictions when the project says so."""
    model = ProjectModel.objects.filter(project_id=project_id, auto_prelabel=True).select_related("project").first()
    if model is None or (model.is_learned and model.active_version_id is None):
        return  # a learned model with nothing learned yet predicts nothing rather than noise
    from .services import start_prelabel

    with transaction.atomic():
        start_prelabel(project=model.project, user=None, only_missing=True)
