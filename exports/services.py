"""Exports as users ask for them: check that the format fits the project, stream small ones straight back, and
make large ones (or any the user wants kept) into a snapshot file with a Celery job."""
import gc
import hashlib
import tempfile
from collections import Counter
from contextlib import contextmanager
from datetime import date
from typing import BinaryIO, Callable, Iterable, Iterator

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from PIL import Image

from projects.models import Project
from projects.services import project_config
from projects.imports.service import UPLOAD_PREFIX, image_url
from projects.jobs import JobCancelled, Progress, finish_job, start_job
from projects.models import Job

from .engine import FORMATS, ExportContext, ExportError, ExportFormat, StoredImage
from .engine.genai import ALL_PAIRS
from .models import ExportSnapshot
from .selection import ExportFilters, consistent_reads, count_selected, task_record_chunks

# Pieces smaller than this are joined before they go out: one write per task would cost more than the task.
STREAM_PIECE_BYTES = 256 * 1024
# How the writers write (ExportContext fields a user sets), kept in an export job's params beside its filters.
WRITER_OPTIONS = ("csv_safe", "ranking_pairs")


def export_context(project: Project, *, csv_safe: bool = True, ranking_pairs: str = ALL_PAIRS) -> ExportContext:
    return ExportContext(
        project_id=project.pk, title=project.title, config=project_config(project),
        stored_image=stored_image_resolver(project.pk), csv_safe=csv_safe, ranking_pairs=ranking_pairs,
    )


def check_export(project: Project, export_type: str) -> ExportFormat:
    """The format, once it is known to fit the project's label config; ExportError says why not."""
    spec = FORMATS[export_type]
    export_context(project).check_fits(export_type, spec.needs)
    return spec


def export_file_name(project: Project, export_type: str, day: date | None = None) -> str:
    day = day or timezone.now().date()
    return f"project-{project.pk}-{export_type.lower()}-{day.isoformat()}.{FORMATS[export_type].extension}"


def export_pieces(
    project: Project, export_type: str, filters: ExportFilters, *,
    context: ExportContext | None = None, on_chunk: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """The export's bytes, produced chunk by chunk of tasks; `on_chunk(tasks_done)` runs between chunks."""
    spec = FORMATS[export_type]
    context = context or export_context(project)
    chunks = task_record_chunks(project, filters, with_predictions=spec.with_predictions, raw_json=spec.raw_json)
    tasks = _counted(chunks, context.counts, on_chunk)
    with cyclic_gc_paused():
        yield from _joined(spec.write(tasks, context))


@contextmanager
def cyclic_gc_paused():
    """Pause Python's cycle collector while an export runs. Records are trees, freed by reference counting
    alone; but each chunk lives long enough to reach the oldest generation, and the collector then rescans it
    again and again: it took more than half of a 100,000-task export's time. Reference counting still frees
    everything; only cycles made meanwhile (anywhere in the process) wait until the export ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def stream_export(project: Project, export_type: str, filters: ExportFilters, **writer_options) -> Iterator[bytes]:
    """The export's bytes read from one snapshot of the database; `writer_options` are export_context's."""
    with consistent_reads():
        yield from export_pieces(project, export_type, filters, context=export_context(project, **writer_options))


def _counted(chunks: Iterable[list[dict]], counts: Counter, on_chunk: Callable[[int], None] | None) -> Iterator[dict]:
    for chunk in chunks:
        yield from chunk
        counts["tasks"] += len(chunk)
        counts["annotations"] += sum(len(task["annotations"]) for task in chunk)
        if on_chunk:
            on_chunk(counts["tasks"])


def _joined(pieces: Iterable[bytes]) -> Iterator[bytes]:
    pending: list[bytes] = []
    pending_size = 0
    for piece in pieces:
        if not piece:
            # Writers yield b"" often (a referenced image adds nothing to a zip), and bytes.join spends 80 bytes
            # per item: a million empty pieces made an 80 MB spike at the end of a million-task COCO export.
            continue
        pending.append(piece)
        pending_size += len(piece)
        if pending_size >= STREAM_PIECE_BYTES:
            yield b"".join(pending)
            pending, pending_size = [], 0
    if pending:
        yield b"".join(pending)


def stored_image_resolver(project_id: int) -> Callable[[str], StoredImage | None]:
    """Find the stored file behind one of this project's upload URLs; any other URL is only referenced."""
    prefix = image_url(project_id, "")

    def resolve(url: str) -> StoredImage | None:
        name = url[len(prefix):] if url.startswith(prefix) else ""
        if not name or name in {".", ".."} or "/" in name or "\\" in name:
            return None
        path = f"{UPLOAD_PREFIX}/{project_id}/{name}"
        if not default_storage.exists(path):
            return None
        return StoredImage(name=name, read=lambda: _read(path), size=lambda: _header_size(path))

    return resolve


def _read(path: str) -> bytes:
    with default_storage.open(path, "rb") as stored:
        return stored.read()


def _header_size(path: str) -> tuple[int, int, int] | None:
    try:
        with default_storage.open(path, "rb") as stored, Image.open(stored) as image:
            return image.width, image.height, len(image.getbands())
    except Exception:  # an unreadable file is an image of unknown size, which the export reports
        return None


# Snapshots: made by a job, kept as a file.

def start_snapshot(
    *, project: Project, user, export_type: str, filters: ExportFilters, name: str = "", **writer_options,
) -> ExportSnapshot:
    check_export(project, export_type)
    file_name = export_file_name(project, export_type)
    with transaction.atomic():
        job = start_job(
            kind=Job.Kind.EXPORT, project=project, created_by=user, total=count_selected(project, filters),
            params={"export_type": export_type, "filters": filters.as_json(), **writer_options},
        )
        snapshot = ExportSnapshot.objects.create(
            project=project, created_by=user, name=name or file_name.rsplit(".", 1)[0], export_type=export_type,
            filters=filters.as_json(), job=job, file_name=file_name,
        )
    return snapshot


def delete_snapshots(snapshots: QuerySet[ExportSnapshot]) -> int:
    """Delete snapshots, and their files once that is committed; answer how many."""
    files = [name for name in snapshots.values_list("file", flat=True) if name]
    deleted = snapshots.delete()[1].get(ExportSnapshot._meta.label, 0)
    transaction.on_commit(lambda: [default_storage.delete(name) for name in files])
    return deleted


def run_export(job: Job, progress: Progress) -> None:
    """The export job's body (the job is claimed): write the snapshot's file, then record its size, checksum and
    counts."""
    job_id = job.pk
    snapshot = ExportSnapshot.objects.select_related("project").filter(job_id=job_id).first()
    if snapshot is None:
        finish_job(job_id, status=Job.Status.CANCELLED, error="its export snapshot was deleted before it ran")
        return
    try:
        with tempfile.TemporaryFile() as spool:
            options = {name: job.params[name] for name in WRITER_OPTIONS if name in job.params}
            context = export_context(snapshot.project, **options)
            size, sha256 = _write_snapshot(snapshot, context, spool, progress)
            spool.seek(0)
            stored_name = default_storage.save(snapshot.file.field.generate_filename(snapshot, snapshot.file_name), File(spool))
        _record_snapshot(snapshot, stored_name, size, sha256, dict(context.counts))
    except JobCancelled:
        finish_job(job_id, status=Job.Status.CANCELLED)
    except ExportError as exc:
        finish_job(job_id, status=Job.Status.FAILED, error=str(exc))


def _write_snapshot(snapshot: ExportSnapshot, context: ExportContext, spool: BinaryIO, progress: Progress) -> tuple[int, str]:
    filters = ExportFilters.from_json(snapshot.filters)
    digest = hashlib.sha256()
    size = 0
    context.check_fits(snapshot.export_type, FORMATS[snapshot.export_type].needs)  # the config may have changed since
    with consistent_reads():
        progress(0, count_selected(snapshot.project, filters))
        for piece in export_pieces(snapshot.project, snapshot.export_type, filters, context=context, on_chunk=progress):
            spool.write(piece)
            digest.update(piece)
            size += len(piece)
    return size, digest.hexdigest()


def _record_snapshot(snapshot: ExportSnapshot, stored_name: str, size: int, sha256: str, counts: dict) -> None:
    """Keep the first finished file: a redelivered job that finished too deletes its own copy."""
    with transaction.atomic():
        current = ExportSnapshot.objects.select_for_update().get(pk=snapshot.pk)
        if current.is_ready:
            transaction.on_commit(lambda: default_storage.delete(stored_name))
        else:
            current.file.name, current.size, current.sha256, current.counts = stored_name, size, sha256, counts
            current.finished_at = timezone.now()
            current.save(update_fields=["file", "size", "sha256", "counts", "finished_at"])
        result = {"snapshot": current.pk, "size": current.size, "sha256": current.sha256, "counts": current.counts}
        finish_job(snapshot.job_id, status=Job.Status.SUCCEEDED, result=result)
