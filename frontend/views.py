"""The annotator's pages, and uploaded task files served only to members of their project."""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import render

from projects import access
from projects.task_import import UPLOAD_PREFIX


@login_required
def home(request):
    projects = access.projects_for(request.user).order_by("-id")
    return render(request, "frontend/home.html", {"projects": projects})


@login_required
def uploaded_file(request, project_id: int, name: str):
    access.get_project_for(request.user, project_id)
    try:
        stored = default_storage.open(f"{UPLOAD_PREFIX}/{project_id}/{name}", "rb")
    except (FileNotFoundError, SuspiciousFileOperation):
        raise Http404("No such file in this project.") from None
    response = FileResponse(stored)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
