"""Every admin page a project manager uses, listed from the admin site's registry (so a new model or a new custom
admin view is covered without touching the tests), and a project holding a row of every kind those pages show."""
from dataclasses import dataclass

from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from exports.models import ExportSnapshot
from exports.selection import ExportFilters
from exports.services import start_snapshot
from ml.models import ModelVersion, ProjectModel
from projects import services
from projects.models import Project, Role, Task
from quality.recompute import start_recompute
from tests.api_helpers import import_tasks, sentiment, span, submit
from workers.tasks import run_consensus_job, run_export_job

# The admin's own pages of a model; anything else a ModelAdmin adds in get_urls() is a custom view.
STANDARD_VIEWS = ("changelist", "add", "history", "delete", "change")
# Custom views that answer with a file rather than a page.
DOWNLOADS = {"exports_exportsnapshot_download"}


@dataclass(frozen=True)
class AdminPage:
    url: str
    kind: str  # index, changelist, add, change, delete, history, custom, download
    model_admin: admin.ModelAdmin | None = None
    obj: object | None = None

    @property
    def is_form(self) -> bool:
        return self.kind in ("add", "change")

    def __str__(self) -> str:
        return f"{self.kind} {self.url}"


def manager_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


# Accounts, API tokens and sign-in attempts (django-axes) are the superuser's; every other registered model is a
# manager's to use. Listed here, not taken from the grant's own list, so an app the grant forgets fails these tests.
NOT_FOR_MANAGERS = ("auth", "authtoken", "axes")


def manager_models():
    """The registered models a manager works with, and the others (users, groups, tokens)."""
    registry = admin.site._registry.items()
    ours = [(model, model_admin) for model, model_admin in registry if model._meta.app_label not in NOT_FOR_MANAGERS]
    others = [(model, model_admin) for model, model_admin in registry if model._meta.app_label in NOT_FOR_MANAGERS]
    return ours, others


def manager_admin_pages(user, url_values: dict) -> list[AdminPage]:
    """The index, each model's changelist, add, change, delete and history pages, and every custom view.

    A custom view's URL arguments come from url_values by name (project_id, snapshot_id...): a new view with
    an argument not named there fails here, saying which value to add."""
    request = manager_request(user)
    pages = [AdminPage(reverse("admin:index"), "index")]
    ours, _ = manager_models()
    for model, model_admin in ours:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages.append(AdminPage(reverse(f"{info}_changelist"), "changelist", model_admin))
        if model_admin.has_add_permission(request):
            pages.append(AdminPage(reverse(f"{info}_add"), "add", model_admin))
        row = model_admin.get_queryset(request).order_by("pk").first()
        assert row is not None, f"the fixture has no {model._meta.label} row the manager sees: add one"
        pages.append(AdminPage(reverse(f"{info}_change", args=[row.pk]), "change", model_admin, row))
        pages.append(AdminPage(reverse(f"{info}_history", args=[row.pk]), "history", model_admin, row))
        if model_admin.has_delete_permission(request, row):
            pages.append(AdminPage(reverse(f"{info}_delete", args=[row.pk]), "delete", model_admin, row))
        pages += custom_pages(model, model_admin, url_values)
    return pages


def custom_pages(model, model_admin, url_values: dict) -> list[AdminPage]:
    standard = {f"{model._meta.app_label}_{model._meta.model_name}_{view}" for view in STANDARD_VIEWS}
    pages = []
    for pattern in model_admin.get_urls():
        if not pattern.name or pattern.name in standard:
            continue
        names = list(pattern.pattern.converters)
        missing = [name for name in names if name not in url_values]
        assert not missing, f"admin view {pattern.name} takes {missing}: give a value in url_values"
        url = reverse(f"admin:{pattern.name}", kwargs={name: url_values[name] for name in names})
        pages.append(AdminPage(url, "download" if pattern.name in DOWNLOADS else "custom", model_admin))
    return pages


def forbidden_changelists() -> list[str]:
    """The registered models outside the manager's apps (users, groups, tokens): a manager gets 403 there."""
    _, others = manager_models()
    return [reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model, _ in others]


@dataclass
class ManagedWorld:
    project: Project
    snapshot: ExportSnapshot | None

    @property
    def url_values(self) -> dict:
        return {"project_id": self.project.pk, "snapshot_id": self.snapshot.pk if self.snapshot else None}


def fill_project(project: Project, manager, annotators: list, *, with_snapshot: bool = True) -> ManagedWorld:
    """Tasks with predictions, two annotators' annotations, a consensus and scores, a model with a version and
    (unless the test makes it) a ready export snapshot: a row for every admin page. Jobs run inline here (the
    pages are under test, not the workers)."""
    services.update_project(project=project, changes={"overlap": 2})
    for annotator in annotators:
        services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    prediction = {"model_version": "demo-v1", "score": 0.8, "result": [sentiment("Positive")]}
    tasks = import_tasks(project, [
        {"data": {"text": "Maria liked Berlin"}, "predictions": [prediction]},
        {"data": {"text": "Cold soup in Lyon"}},
        {"data": {"text": "Great food"}},
    ])
    Task.objects.filter(pk=tasks[2].pk).update(is_gold=True, gold_result=[sentiment("Positive")])
    for annotator, choice in zip(annotators, ("Positive", "Negative")):
        for task in tasks[:2]:
            assert submit(annotator, task, [sentiment(choice), span(task.data["text"], 0, 4, "PER")]).status_code == 201
    run_consensus_job(start_recompute(project=project, user=manager).pk)
    model, _ = ProjectModel.objects.get_or_create(project=project, defaults={"engine": "text_classifier", "control": "sentiment"})
    version = ModelVersion.objects.create(
        project=project, engine=model.engine, number=1, version="text_classifier-v1", artifact=b"",
        metrics={"holdout_accuracy": 0.75}, trained_on=2,
    )
    ProjectModel.objects.filter(pk=model.pk).update(active_version=version)
    project.refresh_from_db()
    if not with_snapshot:
        return ManagedWorld(project, None)
    snapshot = start_snapshot(project=project, user=manager, export_type="JSON", filters=ExportFilters(), name="first run")
    return ManagedWorld(project, finish_snapshot(snapshot))


def finish_snapshot(snapshot: ExportSnapshot) -> ExportSnapshot:
    run_export_job(snapshot.job_id)
    snapshot.refresh_from_db()
    assert snapshot.is_ready, snapshot.job.error
    return snapshot

