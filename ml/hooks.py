"""What the rest of Labeler calls when labels or tasks arrive. Light on purpose: imported by projects.services,
so it loads no model code; each hook costs one or two UPDATEs and queues work for after the commit."""
import logging

from django.db import transaction
from django.db.models import F

from .models import Engine, ProjectModel, TrainingState

logger = logging.getLogger(__name__)


def annotation_saved(project_id: int) -> None:
    """Count a new or changed annotation towards the next retraining, and queue it when due (two UPDATEs)."""
    ProjectModel.objects.filter(project_id=project_id, retrain_every__gt=0).exclude(engine=Engine.DETECTOR).update(
        new_labels=F("new_labels") + 1
    )
    retrain_if_due(project_id)


def retrain_if_due(project_id: int) -> None:
    due = ProjectModel.objects.filter(
        project_id=project_id, training_state=TrainingState.IDLE, retrain_every__gt=0, new_labels__gte=F("retrain_every")
    )
    if due.update(training_state=TrainingState.QUEUED, new_labels=0):
        queue_training(project_id)


def queue_training(project_id: int, then_plan_job: int | None = None) -> None:
    """Send the training task once the caller's transaction commits. A broker that cannot be reached leaves the
    model idle with that reason, so the next annotation tries again, and never fails the annotator's request."""

    def send() -> None:
        from workers.tasks import prelabel_train

        try:
            prelabel_train.delay(project_id, then_plan_job)
        except Exception as exc:  # kombu's errors differ by transport
            logger.exception("could not queue training for project %s", project_id)
            ProjectModel.objects.filter(project_id=project_id, training_state=TrainingState.QUEUED).update(
                training_state=TrainingState.IDLE, training_error=f"could not queue the training: {exc}"
            )

    transaction.on_commit(send)


def tasks_imported(project_id: int) -> None:
    """After an import commits: pre-label the tasks without predictions when the project says so."""
    model = ProjectModel.objects.filter(project_id=project_id, auto_prelabel=True).select_related("project").first()
    if model is None or (model.is_learned and model.active_version_id is None):
        return  # a learned model with nothing learned yet predicts nothing rather than noise
    from .services import start_prelabel

    with transaction.atomic():
        start_prelabel(project=model.project, user=None, only_missing=True)
