"""Exports in the admin: the project managers' list of snapshots, and the same export form as the API offers
(download now, or keep as a snapshot made by a job)."""
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from projects.admin import ManagedRowsMixin, managed_projects

from . import services
from .api.serializers import ExportParamsSerializer
from .api.views import streamed_export
from .engine import FORMATS
from .engine.genai import RANKING_PAIRS
from .models import ExportSnapshot
from .selection import ANNOTATION_MODES, TASK_SCOPES, count_selected


def _api_help(name: str) -> str:
    """The API parameter's own help text, so the admin and the API explain a filter in the same words."""
    return ExportParamsSerializer._declared_fields[name].help_text


class ExportForm(forms.Form):
    exportType = forms.ChoiceField(label="Format", choices=[(name, name) for name in FORMATS])
    annotations = forms.ChoiceField(choices=[(mode, mode) for mode in ANNOTATION_MODES], help_text=_api_help("annotations"))
    tasks = forms.ChoiceField(choices=[(scope, scope) for scope in TASK_SCOPES], help_text=_api_help("tasks"))
    min_agreement = forms.FloatField(required=False, min_value=0, max_value=1)
    annotator = forms.CharField(required=False, help_text="User id or username.")
    annotated_after = forms.CharField(required=False, help_text="ISO 8601 date or time, e.g. 2026-11-01.")
    annotated_before = forms.CharField(required=False)
    ranking_pairs = forms.ChoiceField(
        required=False, choices=[(mode, mode) for mode in RANKING_PAIRS], help_text=_api_help("ranking_pairs"),
    )
    name = forms.CharField(required=False, max_length=200, help_text="For a snapshot: what to call it.")

    def checked_params(self, project) -> ExportParamsSerializer | None:
        """The same checks as the API's, with their messages put on this form's fields."""
        data = {name: value for name, value in self.cleaned_data.items() if value not in (None, "") and name != "name"}
        params = ExportParamsSerializer(data=data, context={"project": project})
        if not params.is_valid():
            for field, errors in params.errors.items():
                self.add_error(field if field in self.fields else None, errors)
            return None
        return params


@admin.register(ExportSnapshot)
class ExportSnapshotAdmin(ManagedRowsMixin, admin.ModelAdmin):
    list_display = ["name", "project", "export_type", "status", "size", "short_sha256", "created_by", "created_at", "download"]
    list_filter = ["export_type"]
    list_select_related = ["project", "created_by", "job"]
    readonly_fields = [field.name for field in ExportSnapshot._meta.fields if field.name != "name"] + ["download"]

    def has_add_permission(self, request) -> bool:
        return False  # snapshots are made through the export form on a project's page

    def delete_model(self, request, snapshot):
        services.delete_snapshots(ExportSnapshot.objects.filter(pk=snapshot.pk))

    def delete_queryset(self, request, queryset):
        services.delete_snapshots(queryset)

    @admin.display(description="sha256")
    def short_sha256(self, snapshot: ExportSnapshot) -> str:
        return snapshot.sha256[:12]

    @admin.display(description="file")
    def download(self, snapshot: ExportSnapshot) -> str:
        if not snapshot.is_ready:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("admin:exports_exportsnapshot_download", args=[snapshot.pk]), snapshot.file_name)

    def get_urls(self):
        extra = [
            path("project/<int:project_id>/", self.admin_site.admin_view(self.export_view), name="exports_project_export"),
            path("<int:snapshot_id>/download/", self.admin_site.admin_view(self.download_view), name="exports_exportsnapshot_download"),
        ]
        return extra + super().get_urls()

    def export_view(self, request, project_id: int):
        project = managed_projects(request).filter(pk=project_id).first()
        if project is None:
            messages.error(request, "No such project among those you manage.")
            return redirect("admin:projects_project_changelist")
        form = ExportForm(request.POST or None, initial={"annotations": "final", "tasks": "labeled"})
        if request.method == "POST" and form.is_valid() and (params := form.checked_params(project)):
            if "snapshot" in request.POST:
                snapshot = services.start_snapshot(
                    project=project, user=request.user, export_type=params.export_type, filters=params.filters,
                    name=form.cleaned_data["name"], **params.writer_options,
                )
                messages.info(request, f"Making export snapshot {snapshot.pk} in the background (job {snapshot.job_id}).")
                return redirect("admin:exports_exportsnapshot_change", snapshot.pk)
            total = count_selected(project, params.filters)
            if total <= settings.LABELER_EXPORT_SYNC_MAX_TASKS:
                return streamed_export(project, params.export_type, params.filters, **params.writer_options)
            form.add_error(None, f"{total} tasks are too many to download directly; make a snapshot instead.")
        snapshots = ExportSnapshot.objects.filter(project=project).select_related("job")[:20]
        context = {
            **self.admin_site.each_context(request), "form": form, "project": project, "snapshots": snapshots,
            "opts": self.model._meta, "title": f"Export {project}",
        }
        return render(request, "admin/exports/export.html", context)

    def download_view(self, request, snapshot_id: int):
        snapshot = self.get_queryset(request).filter(pk=snapshot_id).first()
        if snapshot is None or not snapshot.is_ready:
            messages.error(request, "No finished export snapshot with that id among your projects.")
            return redirect("admin:exports_exportsnapshot_changelist")
        return FileResponse(snapshot.file.open("rb"), as_attachment=True, filename=snapshot.file_name)

