"""Who may export: a project's managers always; its reviewers, and its annotators outside blind mode, when the
project allows it (`annotators_can_export`), and then they get the same content as managers. In a blind project
annotators never see each other's work, so they cannot export it. Outsiders get 404."""
from django.http import Http404
from rest_framework.exceptions import PermissionDenied

from projects import access
from projects.models import Project, Role

from .models import ExportSnapshot


def _check_may_export(project: Project, role: str) -> None:
    if role != Role.MANAGER and not project.annotators_can_export:
        raise PermissionDenied(
            f"Only the managers of project {project.pk} may export it; they can let annotators export too "
            "(annotators_can_export)."
        )
    if role == Role.ANNOTATOR and project.blind:
        raise PermissionDenied(
            f"Project {project.pk} is blind: annotators do not see each other's work, so they cannot export it "
            "(a manager can turn blind mode off)."
        )


def get_project_for_export(user, project_id) -> Project:
    project = access.get_project_for(user, project_id)
    _check_may_export(project, project.user_role)
    return project


def get_snapshot_for(user, snapshot_id) -> ExportSnapshot:
    snapshot = ExportSnapshot.objects.select_related("project", "job").filter(pk=snapshot_id).first()
    role = access.role_in(user, snapshot.project) if snapshot else None
    if role is None:
        raise Http404("No export with that id.")
    _check_may_export(snapshot.project, role)
    return snapshot
