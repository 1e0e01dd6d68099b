"""Jobs through the REST API (who may see and cancel them), and the OpenAPI schema and its page."""
import pytest
from rest_framework.test import APIClient

from projects import jobs
from projects.models import Job


@pytest.fixture
def export_by_annotator(annotator, text_project):
    """A job an annotator started: visible to them and to the project's managers, nobody else."""
    return jobs.create_job(kind=Job.Kind.EXPORT, project=text_project, created_by=annotator, total=10)


def job_url(job_id: int) -> str:
    return f"/api/jobs/{job_id}/"


def test_a_large_import_answers_202_with_a_job_its_creator_polls(api, manager, text_project, settings):
    settings.LABELER_IMPORT_SYNC_MAX_TASKS = 1
    started = api(manager).post(f"/api/projects/{text_project.pk}/import", [{"text": "one"}, {"text": "two"}], format="json")
    assert started.status_code == 202

    response = api(manager).get(started.json()["url"])

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["kind"], body["project"], body["created_by"]) == (started.json()["id"], "import", text_project.pk, manager.pk)
    assert (body["status"], body["progress"], body["error"]) == ("queued", {"done": 0, "total": 2}, "")


def test_the_creator_and_the_projects_manager_see_a_job(api, manager, annotator, export_by_annotator):
    for user in (annotator, manager):
        response = api(user).get(job_url(export_by_annotator.pk))
        assert response.status_code == 200
        assert (response.json()["kind"], response.json()["status"]) == ("export", "queued")


@pytest.mark.parametrize("viewer", ["outsider", "other_annotator"])
def test_anyone_else_gets_404_for_a_job(api, request, export_by_annotator, viewer):
    response = api(request.getfixturevalue(viewer)).get(job_url(export_by_annotator.pk))

    assert response.status_code == 404
    assert response.json() == {"detail": "No job with that id."}


def test_a_job_that_does_not_exist_gets_404(api, manager):
    assert api(manager).get(job_url(999999)).status_code == 404


def test_cancelling_a_queued_job_cancels_it_at_once(api, manager, export_by_annotator):
    response = api(manager).post(f"{job_url(export_by_annotator.pk)}cancel/")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["cancel_requested"]) == ("cancelled", True)
    assert body["finished_at"] is not None
    assert api(manager).get(job_url(export_by_annotator.pk)).json()["status"] == "cancelled"


def test_cancelling_a_running_job_asks_it_to_stop(api, annotator, export_by_annotator):
    Job.objects.filter(pk=export_by_annotator.pk).update(status=Job.Status.RUNNING)

    body = api(annotator).post(f"{job_url(export_by_annotator.pk)}cancel/").json()

    assert (body["status"], body["cancel_requested"], body["finished_at"]) == ("running", True, None)


def test_cancelling_a_finished_job_changes_nothing(api, manager, export_by_annotator):
    jobs.finish_job(export_by_annotator.pk, status=Job.Status.SUCCEEDED, result={"rows": 10})

    body = api(manager).post(f"{job_url(export_by_annotator.pk)}cancel/").json()

    assert (body["status"], body["cancel_requested"], body["result"]) == ("succeeded", False, {"rows": 10})
    assert body["progress"] == {"done": 10, "total": 10}


def test_outsider_cannot_cancel_a_job(api, outsider, export_by_annotator):
    response = api(outsider).post(f"{job_url(export_by_annotator.pk)}cancel/")

    assert response.status_code == 404
    export_by_annotator.refresh_from_db()
    assert (export_by_annotator.status, export_by_annotator.cancel_requested) == ("queued", False)


# Schema and docs

DOCUMENTED = {
    "/api/auth/token/": {"post"},
    "/api/users/": {"get", "post"},
    "/api/projects/": {"get", "post"},
    "/api/projects/{id}/": {"get", "patch", "delete"},
    "/api/projects/{id}/members/": {"get", "post"},
    "/api/projects/{id}/members/{user_id}/": {"delete"},
    "/api/projects/{id}/tasks/": {"get"},
    "/api/tasks/{id}/": {"get"},
    "/api/tasks/{id}/annotations/": {"post"},
    "/api/annotations/{id}/": {"get", "patch", "delete"},
    "/api/jobs/{id}/": {"get"},
    "/api/jobs/{id}/cancel/": {"post"},
}


@pytest.fixture
def schema(db) -> dict:
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def parameter_names(operation: dict) -> set[str]:
    return {parameter["name"] for parameter in operation.get("parameters", [])}


def test_the_schema_is_openapi_3_and_documents_every_endpoint(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Labeler API"
    for path, methods in DOCUMENTED.items():
        assert methods <= set(schema["paths"].get(path, {})), path
    assert any(path.startswith("/api/projects/{id}/import") for path in schema["paths"])


def test_the_schema_documents_filters_pagination_and_headers(schema):
    paths = schema["paths"]

    assert {"page", "page_size", "is_finished", "is_gold", "id_after"} <= parameter_names(paths["/api/projects/{id}/tasks/"]["get"])
    assert "Idempotency-Key" in parameter_names(paths["/api/tasks/{id}/annotations/"]["post"])
    assert "If-Match" in parameter_names(paths["/api/annotations/{id}/"]["patch"])
    assert {"200", "201", "409"} <= set(paths["/api/tasks/{id}/annotations/"]["post"]["responses"])


def test_the_docs_page_loads(db):
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content and b"/api/schema/" in response.content
