"""Pre-labeling actions: pick a model, start a job, ask for a training and run it."""
import importlib.util
import re

from django.db import transaction
from django.db.models import Avg, Count, F, Q

from labeler import outbound
from projects import events as core_events
from projects.jobs import finish_job, start_job
from projects.label_config import parse_label_config
from projects.models import Annotation, Job, Project

from . import events
from .engines.base import EngineError
from .engines.llm_judge import check_template
from .loading import build_engine, build_judge, target_for
from .models import Engine, ProjectModel, TrainingState
from .training import train_project_model


ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ModelNotSet(Exception):
    """The project has no model picked yet (HTTP 409)."""


class InvalidSetting(EngineError):
    """One setting cannot be used; `field` names it, for the API's and the admin's field errors."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def configure_model(*, project: Project, changes: dict) -> ProjectModel:
    """Create or change the project's model settings; EngineError when they cannot work with its label config."""
    model = ProjectModel.objects.filter(project=project).first() or ProjectModel(project=project)
    engine_changed = model.pk is None or changes.get("engine", model.engine) != model.engine
    for name, value in changes.items():
        setattr(model, name, value)
    check_model(model, project.label_config)
    if engine_changed:
        model.active_version = None  # a version belongs to the engine that trained it
    model.save()
    return model


def check_model(model: ProjectModel, label_config: str) -> None:
    if model.engine == Engine.HTTP and not model.url:
        raise EngineError("an http model needs the ML backend's url")
    if model.engine in (Engine.HTTP, Engine.LLM_JUDGE) and model.url and (problem := outbound.refusal(model.url)):
        raise InvalidSetting("url", problem)  # checked again on every call: DNS answers change
    if model.engine == Engine.LLM_JUDGE:
        _check_judge(model, label_config)
    target = target_for(model, label_config)
    if model.engine == Engine.DETECTOR:
        from .engines.detector import resolve_label_map

        _require_opencv()
        resolve_label_map(model.label_map, target.labels)
    if model.engine == Engine.ZERO_SHOT:
        from .engines.sentence_embeddings import require_installed

        require_installed()


def _check_judge(model: ProjectModel, label_config: str) -> None:
    if not model.url:
        raise InvalidSetting("url", "an LLM judge needs the base URL of an OpenAI-compatible server, e.g. http://llm:8000/v1")
    if not model.llm_model.strip():
        raise InvalidSetting("llm_model", "an LLM judge needs the name of the model to ask")
    if model.api_key_env and not ENV_NAME.fullmatch(model.api_key_env):
        raise InvalidSetting("api_key_env", f'"{model.api_key_env}" is not an environment variable name (A-Z, 0-9, _)')
    try:
        check_template(model.prompt_template, parse_label_config(label_config))
    except EngineError as exc:
        raise InvalidSetting("prompt_template", str(exc)) from None
    build_judge(model, label_config)  # EngineError when the label config has nothing a judge can answer


def _require_opencv() -> None:
    if importlib.util.find_spec("cv2") is None:
        raise EngineError("the detector needs OpenCV: pip install 'labeler[vision]'")


def model_of(project: Project) -> ProjectModel:
    model = ProjectModel.objects.select_related("active_version").filter(project=project).first()
    if model is None:
        raise ModelNotSet(f"Project {project.pk} has no model yet: PUT /api/projects/{project.pk}/model/ first.")
    return model


def start_prelabel(*, project: Project, user, only_missing: bool = False, unfinished_only: bool = False) -> Job:
    """Queue a pre-labeling job over the project's tasks (or those without predictions, or the unfinished ones)."""
    model_of(project)
    params = {"only_missing": only_missing, **({"unfinished_only": True} if unfinished_only else {})}
    return start_job(kind=Job.Kind.PRELABEL, project=project, created_by=user, params=params)


def request_training(project_id: int, *, then_plan_job: int | None = None) -> bool:
    """Queue a training unless one is queued or running (then False). Resets the new-label counter."""
    queued = ProjectModel.objects.filter(project_id=project_id, training_state=TrainingState.IDLE).update(
        training_state=TrainingState.QUEUED, new_labels=0
    )
    if queued or then_plan_job:
        events.training_requested.announce(project_id=project_id, then_plan_job=then_plan_job)
    return bool(queued)


def retrain_if_due(project_id: int) -> None:
    due = ProjectModel.objects.filter(
        project_id=project_id, training_state=TrainingState.IDLE, retrain_every__gt=0, new_labels__gte=F("retrain_every")
    )
    if due.update(training_state=TrainingState.QUEUED, new_labels=0):
        events.training_requested.announce(project_id=project_id, then_plan_job=None)


def training_not_queued(project_id: int, exc: Exception) -> None:
    """The broker refused the training: back to idle with that reason, so the next annotation tries again."""
    ProjectModel.objects.filter(project_id=project_id, training_state=TrainingState.QUEUED).update(
        training_state=TrainingState.IDLE, training_error=f"could not queue the training: {exc}"
    )


def train_then_continue(project_id: int, *, then_plan_job: int | None = None) -> str:
    """Train; then the pre-labeling job that waited on this training (if any) is planned again, or fails when
    there is still no model version to predict with."""
    outcome = run_training(project_id, then_plan_job=then_plan_job)
    if then_plan_job is not None:
        if ProjectModel.objects.filter(project_id=project_id, active_version__isnull=False).exists():
            core_events.job_queued.announce(job_id=then_plan_job, kind=Job.Kind.PRELABEL)
        else:
            finish_job(then_plan_job, status=Job.Status.FAILED, error=f"the model could not be trained: {outcome}")
    return outcome


def run_training(project_id: int, *, then_plan_job: int | None = None) -> str:
    """The training task's body: a new version for a learned engine, a START_TRAINING event for an ML backend.
    Answers what happened. Sets training_error instead of raising when there is too little to learn from.
    With prelabel_after_training, a new version then pre-labels the unfinished tasks, unless the training was
    asked for by a pre-labeling job (`then_plan_job`), which goes on by itself."""
    ProjectModel.objects.filter(project_id=project_id).update(training_state=TrainingState.RUNNING)
    model = ProjectModel.objects.select_related("project").get(project_id=project_id)
    version = None
    try:
        if model.engine == Engine.HTTP:
            build_engine(model, model.project.label_config, None).start_training()
            outcome = "sent START_TRAINING to the ML backend"
        elif model.is_learned:
            version = train_project_model(project_id)
            outcome = f"trained {version.version}"
        else:
            outcome = f"nothing to train: the {model.engine} engine is pre-trained"
        error = ""
    except EngineError as exc:
        outcome = error = str(exc)
    ProjectModel.objects.filter(project_id=project_id).update(training_state=TrainingState.IDLE, training_error=error)
    retrain_if_due(project_id)  # annotations that arrived while it trained
    if version is not None and model.prelabel_after_training and then_plan_job is None:
        job = prelabel_unfinished(model.project)
        outcome += f"; pre-labeling job {job.pk} queued" if job else "; a pre-labeling job is already under way"
    return outcome


def prelabel_unfinished(project: Project) -> Job | None:
    """Pre-label the project's unfinished tasks with its newest version, so annotators see its suggestions without
    anyone starting a job. None when a pre-labeling job is already queued or running: the next training (or that
    job) covers the tasks, and jobs do not pile up while annotators keep the model retraining."""
    under_way = Job.objects.filter(project=project, kind=Job.Kind.PRELABEL, status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
    if under_way.exists():
        return None
    with transaction.atomic():
        return start_prelabel(project=project, user=None, unfinished_only=True)


def send_annotation_event(annotation_id: int) -> None:
    """Label Studio's ANNOTATION_CREATED webhook to the project's ML backend, for backends that learn online."""
    annotation = Annotation.objects.select_related("task", "project").filter(pk=annotation_id).first()
    model = ProjectModel.objects.filter(project_id=annotation.project_id, engine=Engine.HTTP).first() if annotation else None
    if model is None:
        return
    event = {
        "action": "ANNOTATION_CREATED",
        "annotation": {
            "id": annotation.pk, "result": annotation.result, "task": annotation.task_id, "project": annotation.project_id,
            "completed_by": annotation.completed_by_id, "lead_time": annotation.lead_time, "was_cancelled": annotation.was_cancelled,
            "created_at": annotation.created_at.isoformat(),
        },
        "task": {"id": annotation.task_id, "data": annotation.task.data, "meta": annotation.task.meta},
    }
    build_engine(model, annotation.project.label_config, None).send_event(event)


def effort_saved(project_id: int) -> list[dict]:
    """Per model version: annotations started from its predictions, and the share accepted unchanged."""
    rows = (
        Annotation.objects.filter(project_id=project_id, was_cancelled=False).exclude(prediction_model_version="")
        .values("prediction_model_version")
        .annotate(
            annotations=Count("id"), unchanged=Count("id", filter=Q(accepted_unchanged=True)), changed=Avg("prediction_changed")
        )
        .order_by("prediction_model_version")
    )
    return [
        {
            "model_version": row["prediction_model_version"], "annotations": row["annotations"],
            "accepted_unchanged": row["unchanged"], "accepted_share": round(row["unchanged"] / row["annotations"], 4),
            "mean_share_changed": round(row["changed"] or 0.0, 4),
        }
        for row in rows
    ]
