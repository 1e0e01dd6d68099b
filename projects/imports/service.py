"""Import tasks into a project: check everything first, then write it all in one transaction.

Small imports run inside the request (201). Larger ones are staged to storage and written by a Celery job
(202), which checks them again, reports progress, and commits all tasks or none. Either way the import is a Job
row carrying the upload's sha256, so the same file sent again (a retry, a double click) is refused with 409
while the first import is queued, running or done, unless the caller asks for a duplicate.
"""
import hashlib
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterable, Iterator

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import get_valid_filename

from .. import events
from ..jobs import JobCancelled, Progress, finish_job, start_job, still_claimed
from ..label_config import ResultError
from ..models import Annotation, Job, Prediction, Project
from ..predictions import refresh_uncertainty
from ..services import ImportCounts, project_config
from .bulk import TaskRow, insert_tasks
from .image_urls import UPLOAD_URL_PREFIX, ImageUrlPolicy
from .readers import ImportError_, ImportLimits, ParsedTask, check_supported, read_tasks

CHUNK_SIZE = 2000
UPLOAD_PREFIX = "uploads"
STAGING_PREFIX = "imports"
HASH_CHUNK_BYTES = 1024 * 1024
# An earlier import of the same content in one of these states makes a new one a duplicate; a failed or
# cancelled one imported nothing, so trying again is what the user should do.
DUPLICATE_STATUSES = (Job.Status.QUEUED, Job.Status.RUNNING, Job.Status.SUCCEEDED)


class DuplicateImport(Exception):
    """The same content was imported into this project already, or is being imported (HTTP 409)."""

    def __init__(self, earlier: Job):
        super().__init__(
            f"This is the same file as import job {earlier.pk} ({earlier.status}, started "
            f"{earlier.created_at:%Y-%m-%d %H:%M} UTC); importing it again would duplicate its tasks. "
            "Pass ?allow_duplicate=true to import it anyway."
        )
        self.job = earlier


@dataclass
class ImportOutcome:
    counts: ImportCounts | None = None
    job: Job | None = None


@dataclass
class Source:
    """One file to import: its original name, a way to open its bytes, and their sha256."""

    name: str
    open: Callable[[], BinaryIO]
    sha256: str = ""
    size: int = 0


def import_limits() -> ImportLimits:
    return ImportLimits(
        max_bytes=settings.LABELER_IMPORT_MAX_BYTES,
        max_image_pixels=settings.LABELER_IMAGE_MAX_PIXELS,
        zip_max_entries=settings.LABELER_ZIP_MAX_ENTRIES,
        zip_max_uncompressed_bytes=settings.LABELER_ZIP_MAX_UNCOMPRESSED_BYTES,
        zip_max_ratio=settings.LABELER_ZIP_MAX_RATIO,
    )


def image_url(project_id: int, stored_name: str) -> str:
    return f"{UPLOAD_URL_PREFIX}{project_id}/{stored_name}"


def start_import(*, project: Project, user, uploads: list, allow_duplicate: bool = False) -> ImportOutcome:
    """Check the whole input, then import it now or queue a job for it. Raises ImportError_ on bad input and
    DuplicateImport when the same content is already imported (or being imported) into the project."""
    limits = import_limits()
    for upload in uploads:
        check_supported(upload.name)
        if upload.size > limits.max_bytes:
            raise ImportError_(f"{upload.name}: {upload.size} bytes is over the {limits.max_bytes}-byte import limit", status=413)
    sources = [Source(upload.name, _rewinding(upload), sha256=sha256_of(upload), size=upload.size) for upload in uploads]
    checksum = combined_checksum(sources)
    if not allow_duplicate:
        refuse_duplicate(project, checksum)  # early, so a retried 500 MB upload is not parsed again
    total = sum(1 for _ in _parse_all(project, sources))
    if total == 0:
        raise ImportError_("nothing to import: no tasks found in the upload")
    params = {"checksum": checksum, "files": [{"name": s.name, "sha256": s.sha256, "size": s.size} for s in sources]}
    if total <= settings.LABELER_IMPORT_SYNC_MAX_TASKS:
        return _import_now(project, user, sources, params, total, allow_duplicate=allow_duplicate)
    return ImportOutcome(job=_queue_import_job(project, user, uploads, params, total, allow_duplicate=allow_duplicate))


def sha256_of(upload) -> str:
    """The upload's sha256: computed while it streamed in (projects.imports.uploads), else read once more now."""
    known = getattr(upload, "sha256", "")
    if known:
        return known
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(HASH_CHUNK_BYTES), b""):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def combined_checksum(sources: list[Source]) -> str:
    """One file's sha256, or for several files in one request a sha256 over theirs, in order."""
    if len(sources) == 1:
        return sources[0].sha256
    return hashlib.sha256("\n".join(source.sha256 for source in sources).encode()).hexdigest()


def refuse_duplicate(project: Project, checksum: str) -> None:
    earlier = (
        Job.objects.filter(project=project, kind=Job.Kind.IMPORT, status__in=DUPLICATE_STATUSES, params__checksum=checksum)
        .order_by("id").first()
    )
    if earlier is not None:
        raise DuplicateImport(earlier)


def _lock_project_for_import(project: Project, checksum: str, *, allow_duplicate: bool) -> None:
    """Serialise imports into one project from the duplicate check to commit, so two identical requests
    racing each other cannot both pass the check: the second waits, then sees the first one's job."""
    Project.objects.select_for_update().filter(pk=project.pk).first()
    if not allow_duplicate:
        refuse_duplicate(project, checksum)


def _import_now(project: Project, user, sources: list[Source], params: dict, total: int, *, allow_duplicate: bool) -> ImportOutcome:
    with transaction.atomic():
        _lock_project_for_import(project, params["checksum"], allow_duplicate=allow_duplicate)
        counts = write_tasks(project, _parse_all(project, sources))
        now = timezone.now()
        job = Job.objects.create(
            kind=Job.Kind.IMPORT, project=project, created_by=user, status=Job.Status.SUCCEEDED, params=params,
            progress_total=total, progress_done=total, result=counts.as_dict(), started_at=now, finished_at=now,
        )
    return ImportOutcome(counts=counts, job=job)


def _rewinding(upload) -> Callable[[], BinaryIO]:
    def open_from_start() -> BinaryIO:
        upload.seek(0)
        return upload

    return open_from_start


def _parse_all(project: Project, sources: list[Source]) -> Iterator[ParsedTask]:
    config = project_config(project)
    limits = import_limits()
    image_urls = ImageUrlPolicy.for_project(project.pk)
    for source in sources:
        for parsed in read_tasks(source.name, source.open(), config, limits):
            if parsed.image is None:  # an uploaded image gets its URL, in this project, when it is stored
                try:
                    image_urls.check(config, parsed.data)
                except ResultError as exc:
                    raise ImportError_(f"{parsed.where}: {exc}") from None
            yield parsed


def _queue_import_job(project: Project, user, uploads: list, params: dict, total: int, *, allow_duplicate: bool) -> Job:
    staging = f"{STAGING_PREFIX}/{project.pk}/{uuid.uuid4().hex}"
    files = []
    for upload, described in zip(uploads, params["files"]):
        upload.seek(0)
        path = default_storage.save(f"{staging}/{get_valid_filename(upload.name)}", File(upload))
        files.append({**described, "path": path})
    try:
        with transaction.atomic():
            _lock_project_for_import(project, params["checksum"], allow_duplicate=allow_duplicate)
            job = start_job(kind=Job.Kind.IMPORT, project=project, created_by=user, params={**params, "files": files}, total=total)
    except BaseException:
        _delete_staged(files)
        raise
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
        events.tasks_imported.announce(project_id=project.pk)
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
        is_gold=parsed.is_gold, gold_result=parsed.gold_result,
    )


def _store_image(project: Project, parsed: ParsedTask, stored_files: list[str]) -> None:
    image = parsed.image
    name = f"{uuid.uuid4().hex[:12]}-{get_valid_filename(image.name) or 'image'}"
    with image.open() as content:  # streamed to storage; File() so an upload's temporary file is copied, not moved
        stored = default_storage.save(f"{UPLOAD_PREFIX}/{project.pk}/{name}", File(content))
    stored_files.append(stored)
    field = next(iter(parsed.data))
    parsed.data[field] = image_url(project.pk, stored.rsplit("/", 1)[-1])
    parsed.image = None


def run_import(job: Job, progress: Progress) -> None:
    """The body of the import job (the job is claimed): re-check and write the staged files, all or nothing."""
    job_id = job.pk
    try:
        with ExitStack() as open_files, transaction.atomic():
            sources = [
                Source(item["name"], _rewinding(open_files.enter_context(default_storage.open(item["path"], "rb"))))
                for item in job.params["files"]
            ]
            counts = write_tasks(job.project, _parse_all(job.project, sources), on_chunk=progress)
            if not still_claimed(job):
                transaction.set_rollback(True)
                return
            finish_job(job_id, status=Job.Status.SUCCEEDED, result=counts.as_dict())
    except JobCancelled:
        finish_job(job_id, status=Job.Status.CANCELLED)
    except ImportError_ as exc:
        finish_job(job_id, status=Job.Status.FAILED, error=str(exc))
    _delete_staged(job.params["files"])


def discard_staged_files(job_id: int) -> None:
    """A job cancelled before it ran (or already done) still leaves no staged files behind."""
    job = Job.objects.filter(pk=job_id).first()
    if job is not None and job.is_finished:
        _delete_staged(job.params.get("files", []))


def _delete_staged(files: list[dict]) -> None:
    for item in files:
        default_storage.delete(item["path"])
