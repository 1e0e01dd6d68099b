"""The reviewer's page: the next doubtful task, every annotation side by side with the consensus, and one key per
decision (accept the consensus, accept annotation N, reject, or edit the consensus)."""
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from rest_framework.exceptions import PermissionDenied

from projects import access
from projects.access import REVIEW
from projects.label_config import ResultError
from projects.services import project_config

from . import review, selectors
from .review_page import describe, review_assets


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
    task = review.next_task_to_review(project, request.user)
    if task is None:
        return render(request, "quality/review.html", {"project": project, "task": None})
    objects = project_config(project).objects
    annotations = selectors.submitted_annotations(task)
    columns = [
        {"key": str(n), "title": f"{a.completed_by.username if a.completed_by else 'imported'}", "annotation": a.pk, **describe(a.result, task.data, objects)}
        for n, a in enumerate(annotations, start=1)
    ]
    consensus = describe(task.consensus_result, task.data, objects) if task.consensus_result is not None else None
    context = {
        "project": project, "task": task, "columns": columns, "consensus": consensus,
        "consensus_json": json.dumps(task.consensus_result or [], indent=1), "assets": review_assets(objects),
    }
    return render(request, "quality/review.html", context)


def _decide(request, project):
    """The page's form posts the API's decision names: `action` (accept, edit, reject), `annotation`, `result`."""
    task_id = _task_in_project(request, project)
    if task_id is None:
        messages.error(request, "That task is not in this project.")
        return redirect("review", project_id=project.pk)
    action = request.POST.get("action", "")
    try:
        review.decide(task_id=task_id, reviewer=request.user, action=action, **_decision_fields(request.POST))
    except (review.ReviewError, review.NotPendingReview, ResultError, ValueError) as exc:
        messages.error(request, f"Task {task_id} was not changed: {exc}")
    else:
        messages.success(request, f"Task {task_id}: {_recorded(action, request.POST)} recorded.")
    return redirect("review", project_id=project.pk)


def _task_in_project(request, project) -> int | None:
    try:
        task = access.get_task_for(request.user, int(request.POST.get("task", "")))
    except (ValueError, Http404):
        return None
    return task.pk if task.project_id == project.pk else None


def _decision_fields(form) -> dict:
    """The annotation to accept (none: the consensus) and the edited result, parsed; ValueError when malformed."""
    fields = {}
    if form.get("annotation"):
        fields["annotation_id"] = int(form["annotation"])
    if form.get("action") == review.EDIT:
        fields["result"] = json.loads(form.get("result", ""))
    return fields


def _recorded(action: str, form) -> str:
    if action == review.ACCEPT:
        return "accepted annotation" if form.get("annotation") else "accepted consensus"
    return {review.EDIT: "edited result", review.REJECT: "rejection"}.get(action, action)
