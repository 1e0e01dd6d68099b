"""Pre-labeling in the admin: each project's model, with actions to pre-label and train, its versions, and the
effort its predictions saved."""
from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html_join

from projects.admin import ManagedRowsMixin

from . import services
from .engines.base import EngineError
from .models import ModelVersion, ProjectModel


class ProjectModelForm(forms.ModelForm):
    url = forms.URLField(required=False, assume_scheme="http", help_text=ProjectModel._meta.get_field("url").help_text)

    class Meta:
        model = ProjectModel
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        project = cleaned.get("project") or getattr(self.instance, "project", None)
        if project is not None and cleaned.get("engine"):
            candidate = ProjectModel(**{name: cleaned.get(name, getattr(self.instance, name)) for name in cleaned if name != "project"})
            try:
                services.check_model(candidate, project.label_config)
            except services.InvalidSetting as exc:
                raise forms.ValidationError({exc.field: str(exc)}) from None
            except EngineError as exc:
                raise forms.ValidationError(str(exc)) from None
        return cleaned


@admin.register(ProjectModel)
class ProjectModelAdmin(ManagedRowsMixin, admin.ModelAdmin):
    form = ProjectModelForm
    list_display = ["project", "engine", "active_version", "auto_prelabel", "prelabel_after_training", "training_state", "updated_at"]
    list_select_related = ["project", "active_version"]
    readonly_fields = ["active_version", "new_labels", "training_state", "training_error", "effort_saved"]
    actions = ["prelabel_all", "prelabel_missing", "train"]
    fieldsets = [
        (None, {"fields": ["project", "engine", "control", "url", "timeout", "auto_prelabel"]}),
        ("Learned models", {"fields": ["min_labels", "retrain_every", "prelabel_after_training"]}),
        ("Detector and ML backend", {"fields": ["label_map", "annotation_events"], "classes": ["collapse"]}),
        ("LLM judge", {"fields": ["llm_model", "api_key_env", "prompt_template", "structured_output",
                                  "judge_both_orders", "fewer_humans_confidence"], "classes": ["collapse"]}),
        ("State", {"fields": ["active_version", "new_labels", "training_state", "training_error", "effort_saved"]}),
    ]

    @admin.display(description="effort saved (per model version: annotations started from a prediction, accepted unchanged)")
    def effort_saved(self, model: ProjectModel) -> str:
        rows = services.effort_saved(model.project_id) if model.pk else []
        if not rows:
            return "No annotation has started from a prediction yet."
        return format_html_join(
            "", "<div>{}: {} of {} accepted unchanged ({}), {} of items changed on average</div>",
            (
                (r["model_version"], r["accepted_unchanged"], r["annotations"], f"{r['accepted_share']:.0%}", f"{r['mean_share_changed']:.0%}")
                for r in rows
            ),
        )

    def _start(self, request, queryset, *, only_missing: bool) -> None:
        for model in queryset.select_related("project"):
            with transaction.atomic():
                job = services.start_prelabel(project=model.project, user=request.user, only_missing=only_missing)
            self.message_user(request, f"{model.project}: pre-labeling job {job.pk} queued (see Background jobs).")

    @admin.action(description="Pre-label all tasks")
    def prelabel_all(self, request, queryset):
        self._start(request, queryset, only_missing=False)

    @admin.action(description="Pre-label tasks without predictions")
    def prelabel_missing(self, request, queryset):
        self._start(request, queryset, only_missing=True)

    @admin.action(description="Train now")
    def train(self, request, queryset):
        for model in queryset:
            with transaction.atomic():
                queued = services.request_training(model.project_id)
            level = messages.INFO if queued else messages.WARNING
            self.message_user(request, f"{model}: {'training queued' if queued else 'a training is already queued or running'}.", level)


@admin.register(ModelVersion)
class ModelVersionAdmin(ManagedRowsMixin, admin.ModelAdmin):
    list_display = ["version", "project", "engine", "trained_on", "holdout_accuracy", "created_at"]
    list_filter = ["engine"]
    list_select_related = ["project"]
    exclude = ["artifact"]
    readonly_fields = ["project", "engine", "number", "version", "metrics", "trained_on", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False  # versions come from training

    @admin.display(description="held-out accuracy")
    def holdout_accuracy(self, version: ModelVersion):
        return version.metrics.get("holdout_accuracy", "-")

    def get_queryset(self, request):
        return super().get_queryset(request).defer("artifact")
