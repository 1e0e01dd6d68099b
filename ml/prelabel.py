"""The pre-labeling job: cut the project's tasks into id ranges, then predict and store each range.

A chunk's inference runs with no transaction open; its predictions, its task uncertainties, its done flag and
the job's progress are then written in one short transaction that starts by locking the chunk row. A chunk run
twice (a redelivered message after a worker died, or a duplicate) finds itself done and writes nothing more.
"""
import logging
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from projects.label_config import ResultError, parse_label_config, validate_result
from projects.predictions import PredictionRow, store_predictions
from projects.jobs import finish_job, release_job
from projects.services import let_one_check_stand_for_overlap
from projects.models import Job, Prediction, Task

from . import events
from .engines.base import EngineError, Suggestion, TaskInput
from .loading import build_engine
from .models import Engine, ModelVersion, PrelabelChunk, ProjectModel
from .services import request_training

logger = logging.getLogger(__name__)
ERROR_SAMPLES = 10
PLAN_READ_BATCH = 20_000


def tasks_to_label(project_id: int, *, only_missing: bool, unfinished_only: bool = False):
    tasks = Task.objects.filter(project_id=project_id)
    if unfinished_only:
        tasks = tasks.filter(is_finished=False)  # index task_project_finished
    if only_missing:
        tasks = tasks.filter(~Exists(Prediction.objects.filter(task=OuterRef("pk"))))
    return tasks


def job_tasks(job: Job):
    return tasks_to_label(
        job.project_id, only_missing=job.params.get("only_missing", False), unfinished_only=job.params.get("unfinished_only", False)
    )


def plan(job: Job) -> None:
    """The planning job's body (the job is claimed): create its chunks once and announce those not done yet, or
    ask for a training first when the learned model has no version yet (the training plans the job again)."""
    if not PrelabelChunk.objects.filter(job_id=job.pk).exists():
        model = ProjectModel.objects.select_related("active_version").get(project_id=job.project_id)
        if model.is_learned and model.active_version is None:
            release_job(job.pk)  # queued again until the training sends this plan once more
            request_training(job.project_id, then_plan_job=job.pk)
            return
        _create_chunks(job, model)
    # A redelivered plan sends again what is left; a chunk sent twice does its work once.
    chunk_ids = list(PrelabelChunk.objects.filter(job_id=job.pk, done=False).values_list("id", flat=True))
    if chunk_ids:
        events.chunks_planned.announce(job_id=job.pk, chunk_ids=chunk_ids)


def _create_chunks(job: Job, model: ProjectModel) -> None:
    ranges = _id_ranges(job_tasks(job))
    version = model.active_version
    with transaction.atomic():
        Job.objects.select_for_update().filter(pk=job.pk).first()  # two deliveries of one plan: one makes chunks
        if PrelabelChunk.objects.filter(job_id=job.pk).exists():
            return
        PrelabelChunk.objects.bulk_create([PrelabelChunk(job_id=job.pk, first_task_id=a, last_task_id=b) for a, b, _ in ranges])
        job.params = {**job.params, "model_version_id": version.pk if version else None, "engine": model.engine}
        job.progress_total = sum(count for _, _, count in ranges)
        job.result = {"predicted": 0, "empty": 0, "errors": 0, "error_samples": [], "model_version": version.version if version else ""}
        job.save(update_fields=["params", "progress_total", "result"])
        if not ranges:
            finish_job(job.pk, status=Job.Status.SUCCEEDED, result=job.result)


def stalled_chunks(job_id: int, last_done: int) -> tuple[list[int] | None, int]:
    """For the watchdog: (chunks to send again, progress now). None when the job is over. Chunks are sent again
    only when no chunk finished since the last look: the broker can lose a message a worker had just taken when
    that worker is killed, and a chunk sent twice is harmless."""
    job = Job.objects.filter(pk=job_id).only("status", "progress_done", "cancel_requested").first()
    if job is None or job.is_finished:
        return None, 0
    if job.cancel_requested:
        stop_job(job_id, status=Job.Status.CANCELLED)
        return None, 0
    if job.progress_done != last_done:
        return [], job.progress_done
    return list(PrelabelChunk.objects.filter(job_id=job_id, done=False).values_list("id", flat=True)), job.progress_done


def _id_ranges(tasks) -> list[tuple[int, int, int]]:
    """(first id, last id, count) of consecutive runs of chunk_size task ids, read as one ordered stream."""
    size = settings.LABELER_PRELABEL_CHUNK_SIZE
    ranges, first, count, last = [], None, 0, None
    for task_id in tasks.order_by("id").values_list("id", flat=True).iterator(chunk_size=PLAN_READ_BATCH):
        first = task_id if first is None else first
        last, count = task_id, count + 1
        if count == size:
            ranges.append((first, last, count))
            first, count = None, 0
    if count:
        ranges.append((first, last, count))
    return ranges


def run_chunk(chunk_id: int) -> None:
    """A chunk's body: predict and store its tasks. A model that cannot run at all fails the whole job, since
    every other chunk would fail the same way."""
    try:
        _predict_chunk(chunk_id)
    except EngineError as exc:
        if (job_id := chunk_job_id(chunk_id)) is not None:
            stop_job(job_id, status=Job.Status.FAILED, error=str(exc))


def chunk_job_id(chunk_id: int) -> int | None:
    return PrelabelChunk.objects.filter(pk=chunk_id).values_list("job_id", flat=True).first()


def _predict_chunk(chunk_id: int) -> None:
    chunk = PrelabelChunk.objects.select_related("job", "job__project").filter(pk=chunk_id).first()
    if chunk is None or chunk.done or chunk.job.is_finished:
        return
    job = chunk.job
    if job.cancel_requested:
        stop_job(job.pk, status=Job.Status.CANCELLED)
        return
    inputs = _chunk_tasks(job, chunk)
    started = time.perf_counter()
    suggestions = predict(job, inputs) if inputs else []
    model_seconds = time.perf_counter() - started
    rows, failures = check_suggestions(job.project.label_config, inputs, suggestions)
    stand_ins = confident_judgments(job, rows)
    with transaction.atomic():
        locked = PrelabelChunk.objects.select_for_update().get(pk=chunk_id)
        if locked.done:
            return
        store_predictions(job.project_id, rows)
        let_one_check_stand_for_overlap(project_id=job.project_id, task_ids=stand_ins)
        locked.done, locked.errors = True, len(failures)
        locked.predicted = sum(1 for row in rows if row.result)
        locked.empty = len(inputs) - len(rows) - len(failures)
        locked.save(update_fields=["done", "predicted", "empty", "errors"])
        _account(job.pk, locked, failures, versions={row.model_version for row in rows}, model_seconds=model_seconds)


def confident_judgments(job: Job, rows: list[PredictionRow]) -> list[int]:
    """The tasks an LLM judge answered confidently enough, and the same in both orders, for one human check to
    stand for the overlap (the project's model setting fewer_humans_confidence; 0 is off)."""
    if job.params.get("engine") != Engine.LLM_JUDGE:
        return []
    threshold = ProjectModel.objects.filter(project_id=job.project_id).values_list("fewer_humans_confidence", flat=True).first()
    if not threshold:
        return []
    return [row.task_id for row in rows
            if row.score is not None and row.score >= threshold and row.details.get("swap_consistent") is not False]


def _chunk_tasks(job: Job, chunk: PrelabelChunk) -> list[TaskInput]:
    rows = job_tasks(job).filter(id__gte=chunk.first_task_id, id__lte=chunk.last_task_id).order_by("id").values_list("id", "data")
    return [TaskInput(task_id, data) for task_id, data in rows]


def predict(job: Job, inputs: list[TaskInput]) -> list[Suggestion]:
    model = ProjectModel.objects.get(project_id=job.project_id)
    version_id = job.params.get("model_version_id")
    version = ModelVersion.objects.filter(pk=version_id).first() if version_id else None
    engine = build_engine(model, job.project.label_config, version)
    return engine.predict(inputs)


def check_suggestions(label_config: str, inputs: list[TaskInput], suggestions: list[Suggestion]):
    """Rows to store (results checked against the label config), and (task id, message) for each failure.
    An empty suggestion (nothing found) is neither."""
    config = parse_label_config(label_config)
    rows, failures = [], []
    for task, suggestion in zip(inputs, suggestions):
        if suggestion.error:
            failures.append((task.id, suggestion.error))
            continue
        if not suggestion.result:
            continue
        try:
            validate_result(config, task.data, suggestion.result)
        except ResultError as exc:
            # The reason quotes the result, which an ML backend wrote: it goes to the log, not to the job's users.
            logger.warning("task %s: prediction does not fit the label config: %.500s", task.id, exc)
            failures.append((task.id, "prediction does not fit the label config (the worker's log says why)"))
            continue
        rows.append(PredictionRow(task.id, suggestion.model_version[:200], suggestion.score, suggestion.result,
                                  suggestion.details))
    return rows, failures


def _account(job_id: int, chunk: PrelabelChunk, failures: list[tuple[int, str]], *, versions: set[str], model_seconds: float) -> None:
    """Add a finished chunk to the job's progress and counts; finish the job with its last chunk.
    `model_seconds` adds up the time spent inside the model (reading images included), so the job's own
    overhead can be told apart from the model's cost."""
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.is_finished:
        return
    result = dict(job.result)
    for name in ("predicted", "empty", "errors"):
        result[name] = result.get(name, 0) + getattr(chunk, name)
    samples = result.get("error_samples", [])
    samples += [{"task": task_id, "error": message[:500]} for task_id, message in failures][: ERROR_SAMPLES - len(samples)]
    result["error_samples"] = samples
    result["model_seconds"] = round(result.get("model_seconds", 0.0) + model_seconds, 3)
    if not result.get("model_version") and versions:  # an ML backend names its version in its answers
        result["model_version"] = sorted(versions)[0]
    job.progress_done += chunk.predicted + chunk.empty + chunk.errors
    elapsed = (timezone.now() - (job.started_at or job.created_at)).total_seconds()
    result["rate_per_second"] = round(job.progress_done / elapsed, 1) if elapsed > 0 else None
    job.result = result
    fields = ["result", "progress_done"]
    if not PrelabelChunk.objects.filter(job_id=job_id, done=False).exists():
        job.status, job.finished_at = _final_status(result), timezone.now()
        job.error = _final_error(result)
        fields += ["status", "finished_at", "error"]
    job.save(update_fields=fields)


def _final_status(result: dict) -> str:
    every_task_failed = result["errors"] and not result["predicted"] and not result["empty"]
    return Job.Status.FAILED if every_task_failed else Job.Status.SUCCEEDED


def _final_error(result: dict) -> str:
    if not result["errors"]:
        return ""
    first = result["error_samples"][0]
    return f"{result['errors']} task(s) got no prediction; first: task {first['task']}: {first['error']}"


def stop_job(job_id: int, *, status: str, error: str = "") -> None:
    """Finish a job early (cancelled, or failed because the model cannot run); its other chunks then do nothing."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if not job.is_finished:
            finish_job(job_id, status=status, error=error)

