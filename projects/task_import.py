"""Import tasks into a project: check everything first, then write it all in one transaction.

Small imports run inside the request (201). Larger ones are staged to storage and written by a Celery job
(202), which checks them again, reports progress, and commits all tasks or none.
"""
import json
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterable, Iterator

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils.text import get_valid_filename

from ml import hooks as ml_hooks
from workers import jobs
from workers.models import Job

from .bulk import TaskRow, insert_tasks
from .importing import ImportError_, ImportLimits, ParsedTask, check_supported, parse_json_body, read_tasks
from .models import Annotation, Prediction, Project
from .predictions import refresh_uncertainty
from .services import ImportCounts, project_config

CHUNK_SIZE = 2000
UPLOAD_PREFIX = "uploads"
STAGING_PREFIX = "imports"


@dataclass
class ImportOutcome:
    counts: ImportCounts | None = None
    job: Job | None = None


@dataclass
class Source:
    """One file to import: its original name and a way to open its bytes."""

    name: str
    open: Callable[[], BinaryIO]


def import_limits() -> ImportLimits:
    return ImportLimits(
        max_bytes=settings.LABELER_IMPORT_MAX_BYTES,
        max_image_pixels=settings.LABELER_IMAGE_MAX_PIXELS,
        zip_max_entries=settings.LABELER_ZIP_MAX_ENTRIES,
        zip_max_uncompressed_bytes=settings.LABELER_ZIP_MAX_UNCOMPRESSED_BYTES,
    )


def image_url(project_id: int, stored_name: str) -> str:
    return f"/data/upload/{project_id}/{stored_name}"


def start_import(*, project: Project, user, uploads: list | None = None, payload=None) -> ImportOutcome:
    """Check the whole input, then import it now or queue a job for it. Raises ImportError_ on bad input."""
    limits = import_limits()
    for upload in uploads or []:
        check_supported(upload.name)
        if upload.size > limits.max_bytes:
            raise ImportError_(f"{upload.name}: {upload.size} bytes is over the {limits.max_bytes}-byte import limit", status=413)
    sources = [Source(upload.name, _rewinding(upload)) for upload in uploads or []]
    total = sum(1 for _ in _parse_all(project, sources, payload))
    if total == 0:
        raise ImportError_("nothing to import: no tasks found in the upload")
    if total <= settings.LABELER_IMPORT_SYNC_MAX_TASKS:
        with transaction.atomic():
            counts = write_tasks(project, _parse_all(project, sources, payload))
        return ImportOutcome(counts=counts)
    return ImportOutcome(job=_queue_import_job(project, user, uploads or [], payload, total))


def _rewinding(upload) -> Callable[[], BinaryIO]:
    def open_from_start() -> BinaryIO:
        upload.seek(0)
        return upload

    return open_from_start


def _parse_all(project: Project, sources: list[Source], payload) -> Iterator[ParsedTask]:
    config = project_config(project)
    if payload is not None:
        yield from parse_json_body(payload, config)
    limits = import_limits()
    for source in sources:
        yield from read_tasks(source.name, source.open(), config, limits)


def _queue_import_job(project: Project, user, uploads: list, payload, total: int) -> Job:
    from workers.tasks import run_import_job

    staging = f"{STAGING_PREFIX}/{project.pk}/{uuid.uuid4().hex}"
    files = []
    if payload is not None:
        body = ContentFile(json.dumps(payload).encode())
        files.append({"name": "request-body.json", "path": default_storage.save(f"{staging}/request-body.json", body)})
    for upload in uploads:
        upload.seek(0)
        path = default_storage.save(f"{staging}/{get_valid_filename(upload.name)}", File(upload))
        files.append({"name": upload.name, "path": path})
    job = jobs.create_job(kind=Job.Kind.IMPORT, project=project, created_by=user, params={"files": files}, total=total)
    jobs.enqueue(run_import_job, job)
    return job


def write_tasks(project: Project, parsed: Iterable[ParsedTask], *, on_chunk: Callable[[int], None] | None = None) -> ImportCounts:
    """Store tasks (and their images, predictions, annotations) in chunks. Call inside a transaction."""
    counts = ImportCounts()
    finished = 0
    stored_files: list[str] = []
    try:
        for chunk in _chunks(parsed, CHUNK_SIZE):
            chunk_counts, chunk_finished = _write_chunk(project, chunk, stored_files)
            counts.task_count += chunk_counts.task_count
            counts.annotation_count += chunk_counts.annotation_count
            counts.prediction_count += chunk_counts.prediction_count
            finished += chunk_finished
            if on_chunk:
                on_chunk(counts.task_count)
        Project.objects.filter(pk=project.pk).update(
            task_count=F("task_count") + counts.task_count,
            annotation_count=F("annotation_count") + counts.annotation_count,
            finished_task_count=F("finished_task_count") + finished,
        )
        # Pre-label the new tasks once they are committed, when the project's model settings say so.
        transaction.on_commit(lambda: ml_hooks.tasks_imported(project.pk), robust=True)
    except BaseException:
        # The rows roll back with the transaction; the stored images would not.
        for name in stored_files:
            default_storage.delete(name)
        raise
    return counts


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _write_chunk(project: Project, chunk: list[ParsedTask], stored_files: list[str]) -> tuple[ImportCounts, int]:
    for parsed in chunk:
        if parsed.image is not None:
            _store_image(project, parsed, stored_files)
    rows = [_task_row(project, parsed) for parsed in chunk]
    task_ids = insert_tasks(project.pk, rows)
    predictions = [
        Prediction(
            task_id=task_id, project_id=project.pk, model_version=str(item.get("model_version") or ""),
            score=item.get("score"), result=item.get("result") or [],
        )
        for task_id, parsed in zip(task_ids, chunk)
        for item in parsed.predictions
    ]
    annotations = [
        Annotation(
            task_id=task_id, project_id=project.pk, completed_by=None, result=item.get("result") or [],
            lead_time=item.get("lead_time"), was_cancelled=bool(item.get("was_cancelled")),
        )
        for task_id, parsed in zip(task_ids, chunk)
        for item in parsed.annotations
    ]
    Prediction.objects.bulk_create(predictions, batch_size=CHUNK_SIZE)
    if predictions:
        refresh_uncertainty({prediction.task_id for prediction in predictions})
    Annotation.objects.bulk_create(annotations, batch_size=CHUNK_SIZE)
    submitted = sum(row.annotation_count for row in rows)
    finished = sum(1 for row in rows if row.is_finished)
    return ImportCounts(len(rows), submitted, len(predictions)), finished


def _task_row(project: Project, parsed: ParsedTask) -> TaskRow:
    submitted = sum(1 for item in parsed.annotations if not item.get("was_cancelled"))
    return TaskRow(
        data=parsed.data, meta=parsed.meta, annotation_count=submitted,
        cancelled_count=len(parsed.annotations) - submitted, is_finished=submitted >= project.overlap,
    )


def _store_image(project: Project, parsed: ParsedTask, stored_files: list[str]) -> None:
    image = parsed.image
    name = f"{uuid.uuid4().hex[:12]}-{get_valid_filename(image.name) or 'image'}"
    stored = default_storage.save(f"{UPLOAD_PREFIX}/{project.pk}/{name}", ContentFile(image.content))
    stored_files.append(stored)
    field = next(iter(parsed.data))
    parsed.data[field] = image_url(project.pk, stored.rsplit("/", 1)[-1])
    parsed.image = None


def run_import(job_id: int) -> None:
    """The body of the import job: re-check and write the staged files, all or nothing."""
    job = jobs.claim_job(job_id)
    if job is None:
        _delete_staged_if_finished(job_id)
        return
    try:
        with ExitStack() as open_files, transaction.atomic():
            sources = [
                Source(item["name"], _rewinding(open_files.enter_context(default_storage.open(item["path"], "rb"))))
                for item in job.params["files"]
            ]
            counts = write_tasks(job.project, _parse_all(job.project, sources, None), on_chunk=_progress_reporter(job_id))
            if not jobs.still_claimed(job):
                transaction.set_rollback(True)
                return
            jobs.finish_job(job_id, status=Job.Status.SUCCEEDED, result=counts.as_dict())
    except jobs.JobCancelled:
        jobs.finish_job(job_id, status=Job.Status.CANCELLED)
    except ImportError_ as exc:
        jobs.finish_job(job_id, status=Job.Status.FAILED, error=str(exc))
    _delete_staged(job.params["files"])


def _progress_reporter(job_id: int) -> Callable[[int], None]:
    def on_chunk(done: int) -> None:
        jobs.report_progress(job_id, done)
        jobs.raise_if_cancelled(job_id)

    return on_chunk


def _delete_staged_if_finished(job_id: int) -> None:
    """A job cancelled before it ran (or already done) still leaves no staged files behind."""
    job = Job.objects.filter(pk=job_id).first()
    if job is not None and job.is_finished:
        _delete_staged(job.params.get("files", []))


def _delete_staged(files: list[dict]) -> None:
    for item in files:
        default_storage.delete(item["path"])
