"""The annotator's pages (their projects, a project's instructions, the labeling page) and uploaded task files
served only to members of their project. Views stay thin: access checks in projects.access, progress in
projects.selectors, the label config's page shape in frontend.labeling; the labeling itself runs in the browser."""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import render
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from projects import access
from projects.imports.service import UPLOAD_PREFIX
from projects.selectors import annotator_progress, projects_with_progress
from quality.selectors import pending_review_count

from .labeling import page_assets, page_config


@login_required
def home(request):
    return render(request, "frontend/home.html", {"projects": projects_with_progress(request.user)})


@login_required
def project_page(request, project_id: int):
    project = access.get_project_for(request.user, project_id)
    progress = annotator_progress(project, request.user)
    waiting_review = pending_review_count(project) if project.user_role in access.REVIEW else None
    return render(request, "frontend/project.html", {"project": project, "progress": progress, "waiting_review": waiting_review})


@login_required
def label_page(request, project_id: int, task_id: int | None = None):
    """The labeling page; with a task id it opens that task (one of the annotator's earlier ones) for editing."""
    project = access.get_project_for(request.user, project_id)
    if task_id is not None:
        task = access.get_task_for(request.user, task_id)
        if task.project_id != project.pk:
            raise Http404("No task with that id in this project.")
    page = {
        "project": {"id": project.pk, "title": project.title, "instructions": project.instructions},
        "config": page_config(project.label_config),
        "progress": annotator_progress(project, request.user),
        "openTask": task_id,
        "user": request.user.username,
        "userId": request.user.pk,
    }
    return render(request, "frontend/label.html", {"project": project, "page": page, "assets": page_assets(page["config"])})


class UploadedFileView(APIView):
    """An uploaded task file, for the project's members: browser sessions and API tokens alike."""

    @extend_schema(exclude=True)
    def get(self, request, project_id: int, name: str):
        access.get_project_for(request.user, project_id)
        if name in {".", ".."} or "/" in name or "\\" in name:
            raise Http404("No such file in this project.")  # never step out of the project's folder
        try:
            stored = default_storage.open(f"{UPLOAD_PREFIX}/{project_id}/{name}", "rb")
        except (FileNotFoundError, SuspiciousFileOperation):
            raise Http404("No such file in this project.") from None
        response = FileResponse(stored)
        response["Cache-Control"] = "private, max-age=86400"
        response["X-Content-Type-Options"] = "nosniff"
        return response
