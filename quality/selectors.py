"""Reads that the review pages, the quality page and the quality API share: the review queue and annotator scores."""
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from projects.models import Annotation, Project, ReviewStatus, Task
from projects.selectors import VisibleWork

from .consensus import MIN_HISTORY_FOR_WEIGHTS
from .models import AnnotatorScore


def pending_review_count(project: Project) -> int:
    return Task.objects.filter(project=project, review_status=ReviewStatus.PENDING).count()


def review_work(task: Task) -> VisibleWork:
    """Everything done on the task, as a reviewer sees it: every annotation (skips too) and the consensus."""
    return VisibleWork(annotations=list(Annotation.objects.filter(task=task).order_by("id")), sees_others_work=True)


def submitted_annotations(task: Task) -> list[Annotation]:
    """The annotations the review page sets side by side, with their authors."""
    return list(Annotation.objects.filter(task=task, was_cancelled=False).select_related("completed_by").order_by("id"))


def annotator_scores(project: Project) -> QuerySet[AnnotatorScore]:
    """The project's annotator scores by username, each with `few_tasks`: too little history to trust them."""
    few_tasks = ExpressionWrapper(Q(tasks_done__lt=MIN_HISTORY_FOR_WEIGHTS), output_field=BooleanField())
    return AnnotatorScore.objects.filter(project=project).select_related("user").annotate(few_tasks=few_tasks).order_by("user__username")
