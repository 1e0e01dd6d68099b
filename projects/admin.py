"""The project managers' admin: projects with progress, members, tasks, annotations, predictions, file import.

Non-superusers see only the projects they manage, and the rows inside them.
"""
import json
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from . import services
from .control_types import control_type
from .imports import service as import_service
from .imports.readers import ImportError_
from .imports.image_urls import ImageUrlPolicy
from .label_config import LabelConfigError, ResultError, validate_result, validate_task_data
from .models import Annotation, Prediction, Project, ProjectMember, Role, Task


def managed_projects(request):
    projects = Project.objects.all()
    if request.user.is_superuser:
        return projects
    return projects.filter(members__user=request.user, members__role=Role.MANAGER)


class ManagedRowsMixin:
    """Limit a project-owned model's rows, and the projects and tasks its forms accept, to those the user manages."""

    project_lookup = "project"

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(**{f"{self.project_lookup}__in": managed_projects(request)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Without this a manager could point a row (a membership!) at any project by typing its id.
        if db_field.name == "project":
            kwargs["queryset"] = managed_projects(request)
        elif db_field.name == "task":
            kwargs["queryset"] = Task.objects.filter(project__in=managed_projects(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ProjectForm(forms.ModelForm):
    """The project's settings; their rules are the model's (field validators and Project.clean()), which the
    form checks on every save as the services do."""

    class Meta:
        model = Project
        fields = services.PROJECT_SETTINGS
        widgets = {"label_config": forms.Textarea(attrs={"rows": 14, "cols": 100, "style": "font-family: monospace"})}


class MemberForm(forms.ModelForm):
    """A member is named by username, as the API names them: a user search would need permissions on every
    user account, which managers do not have (and need not)."""

    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.all(), to_field_name="username",
        widget=forms.TextInput(attrs={"placeholder": "username", "autocomplete": "off"}),
        error_messages={"invalid_choice": "No user with that username."},
    )

    class Meta:
        model = ProjectMember
        fields = ["user", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.user_id:
            self.initial["user"] = self.instance.user.username


class MemberFormSet(forms.BaseInlineFormSet):
    creator = None  # on a new project, the user creating it: the services make them its manager

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if Role.MANAGER not in self.roles_after_save().values():
            raise forms.ValidationError("A project needs at least one manager: make another member manager first.")

    def roles_after_save(self) -> dict:
        """Each member's role once this formset is saved: the stored rows, with the forms' edits on top."""
        rows = ProjectMember.objects.filter(project=self.instance).values_list("pk", "user_id", "role") if self.instance.pk else []
        stored = {pk: user_id for pk, user_id, _ in rows}
        roles = {user_id: role for _, user_id, role in rows}
        if self.instance.pk is None and self.creator is not None:
            roles[self.creator.pk] = Role.MANAGER
        for form in self.forms:
            if not form.cleaned_data:
                continue
            if form.instance.pk in stored:
                roles.pop(stored[form.instance.pk], None)
            if not self._should_delete_form(form):
                roles[form.cleaned_data["user"].pk] = form.cleaned_data["role"]
        return roles


class MemberInline(admin.TabularInline):
    model = ProjectMember
    form = MemberForm
    formset = MemberFormSet
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.creator = request.user
        return formset


class KeepsAManagerMixin:
    """Membership changes go through services.add_member/remove_member, which refuse to leave a project without
    a manager (LastManager): the admin then rolls the whole save back and says why."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._refusing_last_manager(request, super().changeform_view, request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._refusing_last_manager(request, super().delete_view, request, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        return self._refusing_last_manager(request, super().changelist_view, request, extra_context)

    def _refusing_last_manager(self, request, view, *args):
        try:
            return view(*args)
        except services.LastManager as exc:
            self.message_user(request, f"Nothing was saved: {exc}", messages.ERROR)
            return redirect(request.get_full_path())


def save_members(project: Project, formset) -> None:
    """Apply the members inline through the services: new managers first, removals last, so a hand-over from one
    manager to another passes the last-manager check."""
    deleted = [form.instance for form in formset.deleted_forms if form.instance.pk]
    changed = [form for form in formset.forms if form.has_changed() and form.cleaned_data and form not in formset.deleted_forms]
    stored = ProjectMember.objects.select_related("user").in_bulk([form.instance.pk for form in changed if form.instance.pk])
    replaced = [stored[form.instance.pk] for form in changed if form.instance.pk and stored[form.instance.pk].user != form.cleaned_data["user"]]
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], deleted
    for form in sorted(changed, key=lambda form: form.cleaned_data["role"] != Role.MANAGER):
        member = services.add_member(project=project, user=form.cleaned_data["user"], role=form.cleaned_data["role"])
        if form.instance.pk:
            formset.changed_objects.append((member, form.changed_data))
        else:
            formset.new_objects.append(member)
    for member in [*replaced, *deleted]:
        services.remove_member(project=project, user=member.user)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="JSON, JSONL, CSV, TSV, TXT, an image, or a ZIP of images.")
    allow_duplicate = forms.BooleanField(
        required=False, label="Import again", help_text="Import even if this same file was imported into the project before.",
    )


def judges_models(project: Project) -> bool:
    """Whether a control of the project's config judges models (a Pairwise, say): then it has a leaderboard."""
    return any(control_type(control.tag).compares_models for control in services.project_config(project).controls.values())


@admin.register(Project)
class ProjectAdmin(KeepsAManagerMixin, admin.ModelAdmin):
    # Pages other apps hang under a project (quality, the model leaderboard): (path after <id>/, view(admin_site, request,
    # project), URL name). Appended by their admin modules, so the core admin imports none of them.
    project_pages: list[tuple[str, Callable, str]] = []
    form = ProjectForm
    inlines = [MemberInline]
    list_display = ["title", "task_count", "finished_task_count", "progress", "annotation_count", "overlap", "created_at"]
    search_fields = ["title"]
    readonly_fields = ["task_count", "finished_task_count", "annotation_count", "created_by", "created_at", "import_link", "quality_link", "leaderboard_link", "judges_link", "export_link"]
    actions = ["recount"]
    fieldsets = [
        (None, {"fields": ["title", "description", "instructions", "label_config"]}),
        ("Queue", {"fields": ["overlap", "lease_minutes", "queue_order"]}),
        ("Consensus and review", {"fields": [
            "aggregation_method", "agreement_threshold", "adaptive_overlap", "max_overlap", "blind", "gold_share",
            "review_sample_rate", "iou_threshold", "box_fusion", "quality_link", "leaderboard_link",
        ]}),
        ("Model predictions", {"fields": ["show_collab_predictions", "judges_link"]}),
        ("Exports", {"fields": ["annotators_can_export", "export_link"]}),
        ("Counts", {"fields": ["task_count", "finished_task_count", "annotation_count", "created_by", "created_at", "import_link"]}),
    ]

    def get_queryset(self, request):
        return managed_projects(request)

    @admin.display(description="finished")
    def progress(self, project: Project) -> str:
        if not project.task_count:
            return "-"
        return f"{100 * project.finished_task_count / project.task_count:.0f}%"

    @admin.display(description="import tasks")
    def import_link(self, project: Project) -> str:
        if not project.pk:
            return "Save the project first."
        return format_html('<a class="button" href="{}">Import a file…</a>', reverse("admin:projects_project_import", args=[project.pk]))

    @admin.display(description="quality")
    def quality_link(self, project: Project) -> str:
        if not project.pk:
            return "Save the project first."
        return format_html('<a class="button" href="{}">Agreement and annotators…</a>', reverse("admin:projects_project_quality", args=[project.pk]))

    @admin.display(description="leaderboard")
    def leaderboard_link(self, project: Project) -> str:
        return format_html('<a class="button" href="{}">Model leaderboard…</a>', reverse("admin:projects_project_leaderboard", args=[project.pk]))

    @admin.display(description="LLM judges")
    def judges_link(self, project: Project) -> str:
        if not project.pk:
            return "Save the project first."
        return format_html('<a class="button" href="{}">LLM judges against people…</a>', reverse("admin:projects_project_judges", args=[project.pk]))

    def get_fieldsets(self, request, obj=None):
        """The leaderboard's link only where the config has something that judges models."""
        if obj is not None and judges_models(obj):
            return self.fieldsets
        return [(name, {**options, "fields": [field for field in options["fields"] if field != "leaderboard_link"]})
                for name, options in self.fieldsets]

    @admin.display(description="export")
    def export_link(self, project: Project) -> str:
        if not project.pk:
            return "Save the project first."
        return format_html('<a class="button" href="{}">Export…</a>', reverse("admin:exports_project_export", args=[project.pk]))

    def save_model(self, request, project, form, change):
        """Through the API's services; the admin runs this and the members inline in one transaction."""
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data if name in services.PROJECT_SETTINGS}
            saved = services.update_project(project=project, changes=changes)
        else:
            values = {name: form.cleaned_data[name] for name in services.PROJECT_SETTINGS if name in form.cleaned_data}
            saved = services.create_project(creator=request.user, **values)
        _take_saved_row(project, saved)

    def save_formset(self, request, form, formset, change):
        if formset.model is ProjectMember:
            save_members(form.instance, formset)
        else:
            super().save_formset(request, form, formset, change)

    @admin.action(description="Recount tasks, finished tasks and annotations")
    def recount(self, request, queryset):
        for project in queryset:
            services.recount_project(project)
        self.message_user(request, f"Recounted {queryset.count()} project(s).")

    def get_urls(self):
        extra = [
            path("<int:project_id>/import/", self.admin_site.admin_view(self.import_view), name="projects_project_import"),
            *(path(f"<int:project_id>/{route}", self.admin_site.admin_view(self._project_page(view)), name=name)
              for route, view, name in self.project_pages),
        ]
        return extra + super().get_urls()

    def _project_page(self, view: Callable):
        def page(request, project_id: int):
            project = managed_projects(request).filter(pk=project_id).first()
            if project is None:
                messages.error(request, "No such project among those you manage.")
                return redirect("admin:projects_project_changelist")
            return view(self.admin_site, request, project)

        return page

    def import_view(self, request, project_id: int):
        project = managed_projects(request).filter(pk=project_id).first()
        if project is None or not self.has_change_permission(request, project):
            messages.error(request, "No such project among those you manage.")
            return redirect("admin:projects_project_changelist")
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                outcome = import_service.start_import(
                    project=project, user=request.user, uploads=[form.cleaned_data["file"]],
                    allow_duplicate=form.cleaned_data["allow_duplicate"],
                )
            except (ImportError_, LabelConfigError, import_service.DuplicateImport) as exc:
                form.add_error("file", str(exc))
            else:
                if outcome.counts is None:
                    messages.info(request, f"Importing {outcome.job.progress_total} tasks in the background (job {outcome.job.pk}).")
                    return redirect("admin:projects_job_change", outcome.job.pk)
                counts = outcome.counts
                messages.success(request, f"Imported {counts.task_count} tasks, {counts.annotation_count} annotations, {counts.prediction_count} predictions.")
                return redirect("admin:projects_project_change", project.pk)
        context = {**self.admin_site.each_context(request), "form": form, "project": project, "opts": self.model._meta, "title": f"Import tasks into {project}"}
        return render(request, "admin/projects/import.html", context)


def _take_saved_row(project: Project, saved: Project) -> None:
    """Make the admin's form instance the row the service saved, so the inlines and the redirect use it."""
    for field in Project._meta.concrete_fields:
        setattr(project, field.attname, getattr(saved, field.attname))
    project._state.adding = False
    project._state.db = saved._state.db


class ProjectMemberForm(MemberForm):
    class Meta(MemberForm.Meta):
        fields = ["project", "user", "role"]


@admin.register(ProjectMember)
class ProjectMemberAdmin(KeepsAManagerMixin, ManagedRowsMixin, admin.ModelAdmin):
    form = ProjectMemberForm
    list_display = ["user", "project", "role", "added_at"]
    list_select_related = ["user", "project"]
    list_filter = ["role"]
    autocomplete_fields = ["project"]
    search_fields = ["user__username", "project__title"]

    def save_model(self, request, member, form, change):
        previous = ProjectMember.objects.select_related("user").filter(pk=member.pk).first() if change else None
        saved = services.add_member(project=member.project, user=member.user, role=member.role)
        if previous is not None and (previous.project_id, previous.user_id) != (saved.project_id, saved.user_id):
            services.remove_member(project=previous.project, user=previous.user)
        member.pk, member.added_at = saved.pk, saved.added_at

    def delete_model(self, request, member):
        services.remove_member(project=member.project, user=member.user)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for member in queryset.select_related("project", "user"):
            services.remove_member(project=member.project, user=member.user)


class AnnotationInline(admin.TabularInline):
    model = Annotation
    extra = 0
    fields = ["completed_by", "was_cancelled", "lead_time", "version", "updated_at"]
    readonly_fields = fields
    show_change_link = True


class PredictionInline(admin.TabularInline):
    model = Prediction
    extra = 0
    fields = ["model_version", "score", "created_at"]
    readonly_fields = fields
    show_change_link = True


class TaskForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        project = cleaned.get("project") or getattr(self.instance, "project", None)
        if project is not None and isinstance(cleaned.get("data"), dict):
            try:
                config = services.project_config(project)
                validate_task_data(config, cleaned["data"])
                ImageUrlPolicy.for_project(project.pk).check(config, cleaned["data"])
            except ResultError as exc:
                self.add_error("data", str(exc))
        return cleaned


@admin.register(Task)
class TaskAdmin(ManagedRowsMixin, admin.ModelAdmin):
    form = TaskForm
    list_display = ["id", "project", "short_data", "annotation_count", "is_finished", "agreement", "review_status", "is_gold", "created_at"]
    list_filter = ["is_finished", "is_gold", "review_status"]
    list_select_related = ["project"]
    raw_id_fields = ["project"]
    readonly_fields = [
        "annotation_count", "cancelled_count", "is_finished", "reserved_count", "uncertainty", "extra_annotations",
        "consensus_result", "agreement", "consensus_method", "consensus_confidence", "consensus_at",
        "review_status", "reviewed_result", "reviewed_by", "reviewed_at", "review_leased_to", "review_lease_until",
    ]
    inlines = [AnnotationInline, PredictionInline]
    show_full_result_count = False

    @admin.display(description="data")
    def short_data(self, task: Task) -> str:
        """The task's fields as `name: value`, not a Python dict's repr."""
        fields = task.data.items() if isinstance(task.data, dict) else [("data", task.data)]
        text = "; ".join(f"{name}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}" for name, value in fields)
        return text if len(text) <= 80 else text[:77] + "..."

    def get_readonly_fields(self, request, task=None):
        # Moving a task between projects would carry its annotations into another label config.
        return [*self.readonly_fields, "project"] if task else self.readonly_fields

    def save_model(self, request, task, form, change):
        super().save_model(request, task, form, change)
        if not change:
            services.count_new_task(task)

    def delete_queryset(self, request, queryset):
        projects = list(Project.objects.filter(pk__in=queryset.values("project_id")))
        super().delete_queryset(request, queryset)
        for project in projects:
            services.recount_project(project)

    def delete_model(self, request, task):
        super().delete_model(request, task)
        services.recount_project(task.project)


class AnnotationForm(forms.ModelForm):
    class Meta:
        model = Annotation
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        if "result" in cleaned and not cleaned.get("was_cancelled") and self.instance.pk:
            try:
                validate_result(services.project_config(self.instance.project), self.instance.task.data, cleaned["result"])
            except ResultError as exc:
                self.add_error("result", str(exc))
        return cleaned


@admin.register(Annotation)
class AnnotationAdmin(ManagedRowsMixin, admin.ModelAdmin):
    form = AnnotationForm
    list_display = ["id", "task", "project", "completed_by", "was_cancelled", "lead_time", "version", "updated_at"]
    list_filter = ["was_cancelled"]
    list_select_related = ["project", "completed_by"]
    # Where an annotation sits and who wrote it are facts, not edits (the counters follow them).
    readonly_fields = ["task", "project", "completed_by", "version", "idempotency_key", "created_at", "updated_at"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False  # annotations come from annotators (UI, API) or imports

    def save_model(self, request, annotation, form, change):
        editable = {"result", "lead_time", "was_cancelled", "cancel_reason"}
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in editable}
        services.update_annotation(annotation=annotation, changes=changes, expected_version=None)

    def delete_model(self, request, annotation):
        services.delete_annotation(annotation=annotation)

    def delete_queryset(self, request, queryset):
        projects = list(Project.objects.filter(pk__in=queryset.values("project_id")))
        super().delete_queryset(request, queryset)
        for project in projects:
            services.recount_project(project)


@admin.register(Prediction)
class PredictionAdmin(ManagedRowsMixin, admin.ModelAdmin):
    list_display = ["id", "task", "project", "model_version", "score", "created_at"]
    list_filter = ["model_version"]
    list_select_related = ["project"]
    raw_id_fields = ["task", "project"]
    show_full_result_count = False
