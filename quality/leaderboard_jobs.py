"""The model leaderboard as a job: start one, the job's body (read, score, store a LeaderboardSnapshot), and what
GET answers for a project too big to score while the caller waits (LABELER_LEADERBOARD_INLINE_MAX).

The board lives in its own row rather than in Job.result: the GET needs "the newest for this source" from an
index, the snapshot outlives the housekeeping of old job rows, and the job's result stays the small summary every
job has. The job's row still says which snapshot it made.
"""
import time
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from projects.jobs import UNFINISHED, Progress, finish_job, start_job
from projects.models import Annotation, Job, Project

from .leaderboard import ANNOTATIONS, project_leaderboard, read_judgments, score_judgments
from .models import LeaderboardSnapshot


def judged_size(project: Project, source: str) -> int:
    """What a read of the source costs, from the project's counters: its submitted annotations, or its finished
    tasks (whose consensus is read)."""
    return project.annotation_count if source == ANNOTATIONS else project.finished_task_count


def computes_inline(project: Project, source: str) -> bool:
    return judged_size(project, source) <= settings.LABELER_LEADERBOARD_INLINE_MAX


def start_leaderboard_job(*, project: Project, user, source: str, bootstrap: int) -> Job:
    """A queued leaderboard job; the caller's own unfinished job with the same settings if there is one, so a
    second click does not score a million tasks twice."""
    params = {"source": source, "bootstrap": bootstrap}
    running = Job.objects.filter(project=project, kind=Job.Kind.LEADERBOARD, status__in=UNFINISHED,
                                 created_by=user, params=params, cancel_requested=False).first()
    if running is not None:
        return running
    with transaction.atomic():
        return start_job(kind=Job.Kind.LEADERBOARD, project=project, created_by=user, params=params,
                         total=judged_size(project, source))


def run_leaderboard_job(job: Job, progress: Progress) -> None:
    """The job's body (the job is claimed): read the judgments, score them, keep the board. Safe to run twice:
    a job has at most one snapshot, rewritten whole."""
    project, source, rounds = job.project, job.params["source"], job.params["bootstrap"]
    started = time.perf_counter()
    computed_at, marks = timezone.now(), annotation_marks(project)
    judgments = read_judgments(project, source=source, progress=progress)
    progress(judgments.tasks_read, judgments.tasks_read)
    board = score_judgments(judgments, source=source, bootstrap_rounds=rounds, seed=project.pk)
    with transaction.atomic():
        snapshot, _ = LeaderboardSnapshot.objects.update_or_create(job=job, defaults={
            "project": project, "source": source, "bootstrap_rounds": rounds, "computed_at": computed_at,
            "board": board, **marks,
        })
        LeaderboardSnapshot.objects.filter(project=project, source=source, computed_at__lt=computed_at).delete()
    finish_job(job.pk, status=Job.Status.SUCCEEDED, result={
        "snapshot": snapshot.pk, "source": source, "bootstrap": rounds, "tasks_read": judgments.tasks_read,
        "battle_count": board["battle_count"], "models": len(board["models"]),
        "seconds": round(time.perf_counter() - started, 2),
    })


def annotation_marks(project: Project) -> dict:
    """What a later look compares to tell whether annotations changed: the count and the newest id."""
    newest = Annotation.objects.filter(project=project).aggregate(newest=Max("id"))["newest"]
    return {"annotation_count": project.annotation_count, "last_annotation_id": newest or 0}


def annotations_changed_since(snapshot: LeaderboardSnapshot, project: Project) -> bool:
    """Whether an annotation was submitted, skipped, edited or deleted after the snapshot's read began. The
    first two checks are on an index or the project's counter; the edit check reads the project's annotations
    (about 0.1 s at a million) and runs only when the others found nothing."""
    annotations = Annotation.objects.filter(project=project)
    return (project.annotation_count != snapshot.annotation_count
            or annotations.filter(id__gt=snapshot.last_annotation_id).exists()
            or annotations.filter(updated_at__gt=snapshot.computed_at).exists())


def newest_snapshot(project: Project, source: str) -> LeaderboardSnapshot | None:
    return LeaderboardSnapshot.objects.filter(project=project, source=source).order_by("-computed_at").first()


def snapshot_answer(snapshot: LeaderboardSnapshot, project: Project) -> dict:
    """The stored board with when it was computed, by which job, and whether annotations changed since."""
    return {**snapshot.board, "computed_at": snapshot.computed_at, "job": snapshot.job_id,
            "annotations_changed": annotations_changed_since(snapshot, project)}


def inline_answer(project: Project, *, source: str, bootstrap_rounds: int) -> dict:
    computed_at: datetime = timezone.now()
    board = project_leaderboard(project, source=source, bootstrap_rounds=bootstrap_rounds)
    return {**board, "computed_at": computed_at, "job": None, "annotations_changed": False}


def unfinished_job(project: Project, source: str) -> Job | None:
    """The newest leaderboard job of the source still queued or running, whoever started it."""
    return (Job.objects.filter(project=project, kind=Job.Kind.LEADERBOARD, status__in=UNFINISHED, params__source=source)
            .order_by("-id").first())
