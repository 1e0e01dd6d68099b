"""Hostile or unlucky import requests: path tricks on served files, oversized or over-deep bodies, a dead broker."""
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from kombu import pools as kombu_pools

from labeler.celery import app
from ml.models import ProjectModel
from projects.models import Task
from tests.sample_files import png_bytes
from projects.models import Job


def import_png(client, project, name: str) -> str:
    response = client.post(f"/api/projects/{project.pk}/import", {"file": SimpleUploadedFile(name, png_bytes())}, format="multipart")
    assert response.status_code == 201, response.content
    return Task.objects.filter(project=project).latest("id").data["image"]


def test_a_member_of_one_project_cannot_reach_another_projects_files_through_dot_dot(
    api, manager, annotator, image_project, make_user
):
    from projects import services

    other_manager = make_user("other_manager")
    secret_project = services.create_project(creator=other_manager, title="Secret", label_config=image_project.label_config)
    secret_url = import_png(api(other_manager), secret_project, "secret.png")
    secret_name = secret_url.rsplit("/", 1)[-1]
    browser = Client()
    browser.force_login(annotator)

    for trick in (f"../{secret_project.pk}/{secret_name}", f"%2e%2e/{secret_project.pk}/{secret_name}", f"..%2F{secret_project.pk}%2F{secret_name}"):
        response = browser.get(f"/data/upload/{image_project.pk}/{trick}")
        assert response.status_code == 404, trick
    assert browser.get(secret_url).status_code == 404  # and directly: not a member


def test_a_token_client_can_fetch_an_image_of_its_project(api, manager, image_project):
    from rest_framework.authtoken.models import Token

    url = import_png(api(manager), image_project, "cat.png")
    token = Token.objects.create(user=manager)
    response = Client().get(url, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_json_nested_past_the_recursion_limit_is_a_400(api, manager, text_project):
    body = "[" * 50_000 + "]" * 50_000
    response = api(manager).post(f"/api/projects/{text_project.pk}/import", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper than 100 levels" in response.json()["detail"]


def test_a_json_body_over_the_upload_limit_is_a_json_413(api, manager, text_project, settings):
    settings.LABELER_IMPORT_MAX_BYTES = 1000
    body = json.dumps([{"text": "x" * 100} for _ in range(20)])
    response = api(manager).post(f"/api/projects/{text_project.pk}/import", body, content_type="application/json")
    assert response.status_code == 413
    assert "1000-byte limit" in response.json()["detail"]
    assert not Task.objects.filter(project=text_project).exists()


@pytest.fixture
def dead_broker():
    """Point Celery at a loopback port where nothing listens, as when Redis is down."""
    saved = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    app.conf.broker_transport_options = {**saved[1], "max_retries": 1}
    _forget_broker_connections()
    yield
    app.conf.broker_url, app.conf.broker_transport_options = saved
    _forget_broker_connections()


def _forget_broker_connections() -> None:
    """Close and drop every pooled connection and producer, so the next message connects to the current URL.
    kombu keeps its pools in a process-wide registry: a pool closed but left there fails later tests' publishes."""
    kombu_pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def test_a_large_import_with_the_broker_down_is_a_503_and_a_failed_job(transactional_db, api, manager, text_project, settings, dead_broker):
    settings.LABELER_IMPORT_SYNC_MAX_TASKS = 2
    response = api(manager).post(f"/api/projects/{text_project.pk}/import", [{"text": f"t{i}"} for i in range(5)], format="json")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failed" and "broker is unreachable" in body["error"]
    assert Job.objects.get(pk=body["id"]).status == Job.Status.FAILED
    assert not Task.objects.filter(project=text_project).exists()


@pytest.mark.parametrize("path", ["consensus/", "predict/"])
def test_every_job_start_answers_the_failed_job_when_the_broker_is_down(transactional_db, api, manager, text_project,
                                                                        dead_broker, path):
    ProjectModel.objects.create(project=text_project, engine="text_classifier")

    response = api(manager).post(f"/api/projects/{text_project.pk}/{path}", {}, format="json")

    assert response.status_code == 503
    body = response.json()  # the job as it is now: failed, saying why (it once said "queued" here)
    assert body["status"] == "failed" and "broker is unreachable" in body["error"]
