"""Pre-labeling in the admin: a manager picks a model, starts a job, reads the job's rate and the effort saved."""
import html

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from ml.models import ProjectModel
from projects.models import Prediction
from tests.api_helpers import import_texts, sentiment, submit
from projects.models import Job


@pytest.fixture
def admin_client(manager) -> Client:
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    manager.user_permissions.set(Permission.objects.filter(content_type__app_label__in=("projects", "workers", "ml")))
    client = Client()
    client.force_login(manager)
    return client


def test_a_manager_picks_a_model_and_starts_pre_labeling_in_the_admin(admin_client, text_project, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("workers.tasks.plan_prelabel_job.delay", lambda job_id: None)
    form = {"project": text_project.pk, "engine": "detector", "control": "", "url": "", "timeout": "30", "label_map": "{}",
            "min_labels": "10", "retrain_every": "50",
            "api_key_env": "LABELER_LLM_API_KEY", "structured_output": "json_schema", "fewer_humans_confidence": "0"}
    refused = admin_client.post("/admin/ml/projectmodel/add/", form)
    assert "no control is of type rectanglelabels" in html.unescape(refused.content.decode())

    added = admin_client.post("/admin/ml/projectmodel/add/", {**form, "engine": "text_classifier"})
    assert added.status_code == 302
    model = ProjectModel.objects.get(project=text_project)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/ml/projectmodel/", {"action": "prelabel_missing", "_selected_action": [model.pk]})

    job = Job.objects.get(project=text_project, kind=Job.Kind.PRELABEL)
    assert job.params == {"only_missing": True}
    Job.objects.filter(pk=job.pk).update(result={"rate_per_second": 1234.5, "errors": 2})
    assert "1,234/s, 2 errors" in admin_client.get("/admin/projects/job/").content.decode()


def test_the_models_page_shows_the_effort_its_predictions_saved(admin_client, annotator, other_annotator, text_project):
    model = ProjectModel.objects.create(project=text_project, engine="text_classifier")
    task, _ = import_texts(text_project, "Lovely.", "Fine.")
    prediction = Prediction.objects.create(task=task, project=text_project, model_version="text_classifier-v1", result=[sentiment("Positive")])
    submit(annotator, task, [sentiment("Positive")], prediction=prediction.pk)
    submit(other_annotator, task, [sentiment("Negative")], prediction=prediction.pk)

    page = html.unescape(admin_client.get(f"/admin/ml/projectmodel/{model.pk}/change/").content.decode())

    assert "text_classifier-v1: 1 of 2 accepted unchanged (50%)" in page
