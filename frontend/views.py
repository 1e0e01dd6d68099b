"""The annotator's pages, and uploaded task files served only to members of their project."""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import render
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from projects import access
from projects.task_import import UPLOAD_PREFIX


@login_required
def home(request):
    projects = access.projects_for(request.user).order_by("-id")
    return render(request, "frontend/home.html", {"projects": projects})


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
