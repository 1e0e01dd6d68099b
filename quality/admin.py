"""Quality in the admin: the annotator scores, and each project's quality page (agreement, histogram, annotators),
which the project's change page links to."""
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import path

from projects.admin import ManagedRowsMixin, managed_projects

from .admin_views import project_quality
from .models import AnnotatorScore


@admin.register(AnnotatorScore)
class AnnotatorScoreAdmin(ManagedRowsMixin, admin.ModelAdmin):
    list_display = ["user", "project", "tasks_done", "gold_accuracy", "consensus_agreement", "reliability", "median_lead_time"]
    list_filter = ["project"]
    list_select_related = ["user", "project"]
    readonly_fields = [field.name for field in AnnotatorScore._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # each project recompute rewrites them

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        quality = path("project/<int:project_id>/", self.admin_site.admin_view(self.project_view), name="quality_project_quality")
        return [quality, *super().get_urls()]

    def project_view(self, request, project_id: int):
        project = managed_projects(request).filter(pk=project_id).first()
        if project is None:
            messages.error(request, "No such project among those you manage.")
            return redirect("admin:projects_project_changelist")
        return project_quality(self.admin_site, request, project)
