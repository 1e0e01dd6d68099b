"""What the OpenAPI schema promises a generated client, and the answers behind those promises: JSON bodies (the
import also takes files), documented error answers with their bodies, real media types, and JSON errors (never a
500 or an HTML page) for bodies, ids and query parameters a client gets wrong."""
from urllib.parse import urlencode

import pytest
from django.test import Client
from rest_framework.test import APIClient

from django.db import DataError
from psycopg.errors import NumericValueOutOfRange

from ml.models import ProjectModel
from projects.api.errors import is_number_out_of_range, number_out_of_range

JSON = "application/json"


def _data_error_from(cause: Exception) -> DataError:
    """Django's DataError as psycopg's error becomes it: the driver's exception is its cause."""
    error = DataError(str(cause))
    error.__cause__ = cause
    return error


@pytest.fixture
def schema(db) -> dict:
    return APIClient().get("/api/schema/", {"format": "json"}).json()


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_every_request_body_is_json_and_only_the_import_also_takes_files(schema):
    body_types = {name: sorted(op["requestBody"]["content"]) for name, op in operations(schema) if "requestBody" in op}

    assert body_types.pop("POST /api/projects/{id}/import") == [JSON, "multipart/form-data"]
    assert len(body_types) >= 14
    assert {name: types for name, types in body_types.items() if types != [JSON]} == {}


def test_every_operation_documents_its_error_answers_with_a_json_body(schema):
    responses = {name: op["responses"] for name, op in operations(schema)}

    assert {"400", "401", "403", "404", "409", "413", "415", "503"} <= set(responses["POST /api/tasks/{id}/annotations/"])
    assert {"401", "403", "404", "503"} <= set(responses["GET /api/projects/{id}/"])
    assert {"400", "413", "415", "429", "503"} <= set(responses["POST /api/auth/token/"])
    assert "401" not in responses["POST /api/auth/token/"]  # anyone may ask for a token
    for name, answers in responses.items():
        assert "503" in answers, name
        assert "Retry-After" in answers["503"]["headers"], name
        for code, answer in answers.items():
            if code >= "400":
                assert JSON in answer["content"], (name, code)
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail"] and error["properties"]["detail"]["type"] == "string"


def test_an_error_documented_by_its_view_keeps_its_description_and_gets_the_error_body(schema):
    conflict = schema["paths"]["/api/tasks/{id}/annotations/"]["post"]["responses"]["409"]

    assert conflict["description"] == "Already annotated"
    assert conflict["content"][JSON]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_export_documents_the_media_type_of_each_format(schema):
    answers = schema["paths"]["/api/projects/{id}/export"]["get"]["responses"]["200"]["content"]

    assert set(answers) == {JSON, "application/x-ndjson", "text/csv", "application/zip", "text/plain"}
    assert answers[JSON]["schema"]["type"] == "array"
    assert "application/octet-stream" not in schema["paths"]["/api/exports/{id}/download"]["get"]["responses"]["200"]["content"]


def test_a_model_without_a_version_answers_null_where_the_schema_says_nullable(api, manager, text_project, schema):
    ProjectModel.objects.create(project=text_project, engine="keywords")

    answer = api(manager).get(f"/api/projects/{text_project.pk}/model/")

    assert answer.status_code == 200 and answer.json()["active_version"] is None
    assert schema["components"]["schemas"]["ProjectModel"]["properties"]["active_version"]["nullable"] is True


# Bodies a JSON endpoint does not take

def form_post(client: APIClient, url: str, fields: dict, *, multipart: bool):
    if multipart:
        return client.post(url, fields, format="multipart")
    return client.post(url, urlencode(fields), content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("multipart", [False, True], ids=["form", "multipart"])
def test_a_form_body_to_a_json_endpoint_gets_415_saying_what_to_send(api, manager, staff, text_project, multipart):
    url = f"/api/projects/{text_project.pk}/members/"

    response = form_post(api(manager), url, {"username": "staff", "role": "annotator"}, multipart=multipart)

    assert response.status_code == 415
    assert response.json()["detail"].endswith("send application/json.")
    assert staff.pk not in [member["user"] for member in api(manager).get(url).json()]  # nobody was added


def test_a_form_login_gets_415_and_a_json_login_a_token(manager):
    form = form_post(APIClient(), "/api/auth/token/", {"username": "manager", "password": "a-long-password-1"}, multipart=False)
    as_json = APIClient().post("/api/auth/token/", {"username": "manager", "password": "a-long-password-1"}, format="json")

    assert form.status_code == 415 and "application/json" in form.json()["detail"]
    assert as_json.status_code == 200 and as_json.json()["token"]


def test_the_import_takes_json_or_multipart_but_not_a_form(api, manager, text_project):
    url = f"/api/projects/{text_project.pk}/import"

    form = form_post(api(manager), url, {"text": "hello"}, multipart=False)

    assert form.status_code == 415
    assert form.json()["detail"].endswith("send application/json or multipart/form-data.")
    assert api(manager).post(url, [{"text": "hello"}], format="json").status_code == 201


# Ids and query parameters

@pytest.mark.parametrize("path", [
    "/api/projects/99999999999999999999/", "/api/tasks/99999999999999999999/", "/api/projects/-3/", "/api/no-such-thing/",
])
def test_an_id_no_object_can_have_or_an_unknown_api_url_is_a_json_404(api, manager, path):
    response = api(manager).get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == JSON and response.json()["detail"]


def test_pages_outside_the_api_keep_djangos_404_page(db):
    response = Client().get("/no-such-page/")

    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_a_task_id_past_the_databases_integers_in_a_body_is_a_field_error(api, manager, text_project):
    response = api(manager).post(f"/api/projects/{text_project.pk}/release/", {"tasks": [10**20]}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["tasks"]


@pytest.mark.parametrize(("error", "out_of_range"), [
    (OverflowError("Python int too large to convert to SQLite INTEGER"), True),
    (_data_error_from(NumericValueOutOfRange("bigint out of range")), True),
    (DataError("value too long for type character varying(200)"), False),
    (ValueError("invalid literal"), False),
])
def test_only_numbers_past_the_databases_integers_count_as_out_of_range(error, out_of_range):
    assert is_number_out_of_range(error) is out_of_range


@pytest.mark.parametrize(("kwargs", "status"), [({"pk": 10**20}, 404), ({"pk": 3}, 400), ({}, 400)])
def test_an_out_of_range_id_in_the_path_is_a_404_and_elsewhere_a_400(kwargs, status):
    assert number_out_of_range({"kwargs": kwargs}).status_code == status


@pytest.mark.parametrize(("query", "named"), [
    ("page_size=abc", "page_size"), ("page_size=0", "page_size"), ("page_size=1001", "page_size"), ("page_size=", "page_size"),
    ("page=0", "page"), ("page=%C2%B2", "page"), ("page=1&page=2", "page"),
])
def test_a_bad_or_repeated_page_parameter_is_a_400_naming_it(api, manager, text_project, query, named):
    response = api(manager).get(f"/api/projects/{text_project.pk}/tasks/?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [named]


def test_a_good_page_size_still_pages(api, manager, text_project):
    api(manager).post(f"/api/projects/{text_project.pk}/import", [{"text": "one"}, {"text": "two"}], format="json")

    response = api(manager).get(f"/api/projects/{text_project.pk}/tasks/", {"page_size": 1, "page": 2})

    assert response.status_code == 200
    assert (response.json()["count"], len(response.json()["results"])) == (2, 1)
