"""How pre-labeling follows the core's events (subscribed in MLConfig.ready()). Light on purpose: each costs one
read for a project without a model, and one or two UPDATEs otherwise."""
from django.db import transaction
from django.db.models import F

from . import events
from .models import PRETRAINED_ENGINES, Engine, ProjectModel
from .services import retrain_if_due, start_prelabel


def annotation_submitted(*, project_id: int, annotation_id: int) -> None:
    """Inside the submit's transaction: count the annotation towards the next retraining (and ask for it when due);
    tell an ML backend that wants annotation events once it commits."""
    model = ProjectModel.objects.filter(project_id=project_id).only("engine", "retrain_every", "annotation_events").first()
    if model is None:
        return
    if model.retrain_every > 0 and model.engine not in PRETRAINED_ENGINES:
        ProjectModel.objects.filter(pk=model.pk).update(new_labels=F("new_labels") + 1)
        retrain_if_due(project_id)
    if model.engine == Engine.HTTP and model.annotation_events:
        events.annotation_event_due.announce(annotation_id=annotation_id)


def tasks_imported(*, project_id: int) -> None:
    """After an import commits: pre-label the tasks without predictions when the project says so."""
    model = ProjectModel.objects.filter(project_id=project_id, auto_prelabel=True).select_related("project").first()
    if model is None or (model.is_learned and model.active_version_id is None):
        return  # a learned model with nothing learned yet predicts nothing rather than noise
    with transaction.atomic():
        start_prelabel(project=model.project, user=None, only_missing=True)
