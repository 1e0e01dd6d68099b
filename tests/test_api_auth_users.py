"""Token login, unauthenticated calls, and the staff-only user list."""
import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tests.conftest import TEST_PASSWORD

User = get_user_model()


def log_in(username: str, password: str):
    return APIClient().post("/api/auth/token/", {"username": username, "password": password}, format="json")


def client_with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_annotator_trades_password_for_a_token_that_authenticates_api_calls(annotator, text_project):
    response = log_in("annotator", TEST_PASSWORD)

    assert response.status_code == 200
    token = response.json()["token"]
    projects = client_with_token(token).get("/api/projects/")
    assert projects.status_code == 200
    assert [project["title"] for project in projects.json()["results"]] == ["Reviews"]


def test_logging_in_twice_gives_the_same_token(annotator):
    assert log_in("annotator", TEST_PASSWORD).json()["token"] == log_in("annotator", TEST_PASSWORD).json()["token"]


def test_a_wrong_password_gets_400_saying_the_credentials_do_not_work(annotator):
    response = log_in("annotator", "not-the-password")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}


def test_a_login_without_password_names_the_missing_field(annotator):
    response = APIClient().post("/api/auth/token/", {"username": "annotator"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"password": ["This field is required."]}


@pytest.mark.parametrize("path", ["/api/projects/", "/api/users/", "/api/tasks/1/", "/api/jobs/1/", "/api/annotations/1/"])
def test_calls_without_credentials_get_401(db, path):
    response = APIClient().get(path)

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"] == "Token"


def test_a_made_up_token_gets_401(db):
    response = client_with_token("0" * 40).get("/api/projects/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_staff_lists_users(api, staff, annotator):
    response = api(staff).get("/api/users/")

    assert response.status_code == 200
    users = response.json()["results"]
    assert [user["username"] for user in users] == ["staff", "annotator"]
    assert all("password" not in user for user in users)


def test_annotator_may_not_list_users(api, annotator):
    response = api(annotator).get("/api/users/")

    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}


def test_annotator_may_not_create_users(api, annotator):
    response = api(annotator).post("/api/users/", {"username": "sneaky", "password": "Correct-Horse-42"})

    assert response.status_code == 403
    assert not User.objects.filter(username="sneaky").exists()


def test_staff_creates_a_user_who_can_then_log_in(api, staff):
    response = api(staff).post("/api/users/", {"username": "newcomer", "password": "Correct-Horse-42", "email": "new@example.com"})

    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "newcomer" and body["email"] == "new@example.com"
    assert "password" not in body
    assert log_in("newcomer", "Correct-Horse-42").status_code == 200


@pytest.mark.parametrize(
    ("password", "complaint"),
    [
        ("abc", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("8274619305", "This password is entirely numeric."),
    ],
)
def test_a_weak_password_gets_400_saying_why(api, staff, password, complaint):
    response = api(staff).post("/api/users/", {"username": "newcomer", "password": password})

    assert response.status_code == 400
    assert complaint in response.json()["password"]
    assert not User.objects.filter(username="newcomer").exists()


def test_a_taken_username_gets_400(api, staff, annotator):
    response = api(staff).post("/api/users/", {"username": "annotator", "password": "Correct-Horse-42"})

    assert response.status_code == 400
    assert response.json() == {"username": ["A user with that username already exists."]}
