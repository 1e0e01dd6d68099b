"""Reads that pages and the API share: an annotator's progress and history, and the work on a task a user may see."""
from dataclasses import dataclass

from django.db.models import Count, Q

from . import access
from .models import Annotation, Project, Task


@dataclass(frozen=True)
class VisibleWork:
    """A task's annotations as one user may see them, for its detail answer (the serializer's context)."""

    annotations: list[Annotation]
    sees_others_work: bool  # the others' annotations, the consensus and the review

    def own_counts(self) -> dict[str, int]:
        """The task's counters as a blind project's annotator may see them: their own annotation only."""
        submitted = sum(1 for annotation in self.annotations if not annotation.was_cancelled)
        return {"annotation_count": submitted, "cancelled_count": len(self.annotations) - submitted}


def visible_work(user, task: Task) -> VisibleWork:
    """`task.project` carries the user's role (access.get_task_for), so this is one query."""
    annotations = access.visible_annotations(user, task.project, Annotation.objects.filter(task=task))
    return VisibleWork(annotations=list(annotations), sees_others_work=access.sees_others_work(user, task.project))


@dataclass(frozen=True)
class ProjectProgress:
    project: Project  # with the user's role, as access.projects_with_role answers
    progress: dict


def projects_with_progress(user) -> list[ProjectProgress]:
    """The user's projects, newest first, each with what they did in it (the home page's list): two queries."""
    projects = list(access.projects_with_role(user).order_by("-id"))
    progress = annotator_progress_in(projects, user)
    return [ProjectProgress(project=project, progress=progress[project.pk]) for project in projects]


def annotator_progress(project: Project, user) -> dict:
    """What the annotator did in the project and how many tasks are still open to them."""
    return annotator_progress_in([project], user)[project.pk]


def annotator_progress_in(projects: list[Project], user) -> dict[int, dict]:
    """annotator_progress for several projects (the home page's list) in one grouped query."""
    own = {
        row["project_id"]: row for row in
        Annotation.objects.filter(project__in=projects, completed_by=user).order_by().values("project_id").annotate(
            done=Count("id", filter=Q(was_cancelled=False)),
            skipped=Count("id", filter=Q(was_cancelled=True)),
            on_open_tasks=Count("id", filter=Q(task__is_finished=False)),
        )
    }
    progress = {}
    for project in projects:
        mine = own.get(project.pk, {"done": 0, "skipped": 0, "on_open_tasks": 0})
        open_tasks = max(project.task_count - project.finished_task_count, 0)
        progress[project.pk] = {
            "done": mine["done"], "skipped": mine["skipped"], "remaining": max(open_tasks - mine["on_open_tasks"], 0),
        }
    return progress


def annotation_history(project: Project, user, *, before: int | None = None, limit: int = 20) -> list[dict]:
    """The annotator's own annotations in the project, newest first, `limit` at a time (keyset on id)."""
    annotations = Annotation.objects.filter(project=project, completed_by=user)
    if before is not None:
        annotations = annotations.filter(pk__lt=before)
    rows = annotations.order_by("-id").values("id", "task_id", "was_cancelled", "updated_at")[:limit]
    return [
        {"annotation": row["id"], "task": row["task_id"], "was_cancelled": row["was_cancelled"], "updated_at": row["updated_at"]}
        for row in rows
    ]
