"""The reviewer's page: the next doubtful task, every annotation side by side with the consensus, and one key per
decision (accept the consensus, accept annotation N, reject, or edit the consensus)."""
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import redirect, render
from rest_framework.exceptions import PermissionDenied

from projects import access
from projects.access import REVIEW
from projects.label_config import ResultError
from projects.models import Annotation, Task
from projects.services import project_config

from . import review
from .review_page import describe


def _reviewable_project(user, project_id: int):
    try:
        return access.get_project_for(user, project_id, roles=REVIEW)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from None


@login_required
def review_page(request, project_id: int):
    project = _reviewable_project(request.user, project_id)
    if request.method == "POST":
        return _decide(request, project)
    task = review.next_task_to_review(project)
    if task is None:
        return render(request, "quality/review.html", {"project": project, "task": None})
    objects = project_config(project).objects
    annotations = list(Annotation.objects.filter(task=task, was_cancelled=False).select_related("completed_by").order_by("id"))
    columns = [
        {"key": str(n), "title": f"{a.completed_by.username if a.completed_by else 'imported'}", "annotation": a.pk, **describe(a.result, task.data, objects)}
        for n, a in enumerate(annotations, start=1)
    ]
    consensus = describe(task.consensus_result, task.data, objects) if task.consensus_result is not None else None
    context = {
        "project": project, "task": task, "columns": columns, "consensus": consensus,
        "consensus_json": json.dumps(task.consensus_result or [], indent=1),
    }
    return render(request, "quality/review.html", context)


def _decide(request, project):
    task = Task.objects.filter(project=project, pk=request.POST.get("task")).first()
    if task is None:
        messages.error(request, "That task is not in this project.")
        return redirect("review", project_id=project.pk)
    action = request.POST.get("action")
    try:
        if action == "accept-annotation":
            review.accept_annotation(task=task, reviewer=request.user, annotation_id=int(request.POST.get("annotation", 0)))
        elif action == "accept-consensus":
            review.accept_consensus(task=task, reviewer=request.user)
        elif action == "edit":
            review.edit_result(task=task, reviewer=request.user, result=json.loads(request.POST.get("result", "")))
        elif action == "reject":
            review.reject(task=task, reviewer=request.user)
        else:
            raise review.ReviewError(f"Unknown action {action!r}.")
    except (review.ReviewError, ResultError, ValueError) as exc:
        messages.error(request, f"Task {task.pk} was not changed: {exc}")
    else:
        messages.success(request, f"Task {task.pk}: {action.replace('-', ' ')} recorded.")
    return redirect("review", project_id=project.pk)
