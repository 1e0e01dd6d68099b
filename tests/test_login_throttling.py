"""Sign-in throttling (django-axes) on POST /api/auth/token/, /login/ and the admin's login, by username and by
address, with a 429 that says why; API tokens that expire, are revoked and rotated; the password validators."""
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import TEST_PASSWORD

LOCKED = "Too many failed sign-ins for this account or from this address. Try again in 15 minutes."


def token_login(username: str, password: str, address: str = "127.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post("/api/auth/token/", {"username": username, "password": password}, format="json")


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def limit_of_three(settings):
    """Each failed sign-in costs a password hash (about half a second): most tests lock out after three."""
    settings.AXES_FAILURE_LIMIT = 3


def fail_until_the_limit(username: str = "annotator", address: str = "127.0.0.1") -> None:
    """Fail to sign in as often as the limit allows: the last failure is the one that locks, and answers 429."""
    statuses = [token_login(username, f"wrong-{attempt}", address).status_code for attempt in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses == [400] * (settings.AXES_FAILURE_LIMIT - 1) + [429]


# The API.

def test_the_token_endpoint_locks_an_account_out_after_ten_failures_even_with_the_right_password(annotator):
    assert settings.AXES_FAILURE_LIMIT == 10  # the default

    fail_until_the_limit()
    refused = token_login("annotator", TEST_PASSWORD)

    assert refused.status_code == 429
    assert refused.json() == {"detail": LOCKED}
    assert refused["Retry-After"] == "900"


def test_a_locked_account_is_locked_from_every_address(annotator, limit_of_three):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        token_login("annotator", "wrong", f"10.0.0.{attempt + 1}")

    assert token_login("annotator", TEST_PASSWORD, "10.9.9.9").status_code == 429


def test_an_address_guessing_many_accounts_is_locked_for_every_account(annotator, other_annotator, limit_of_three):
    statuses = [token_login(f"guess-{attempt}", "wrong", "10.1.1.1").status_code for attempt in range(3)]

    assert statuses == [400, 400, 429]

    assert token_login("other_annotator", TEST_PASSWORD, "10.1.1.1").status_code == 429
    assert token_login("annotator", TEST_PASSWORD, "10.2.2.2").status_code == 200  # others are not locked out


def test_the_lock_lifts_after_the_cool_off(annotator, limit_of_three):
    fail_until_the_limit()
    assert token_login("annotator", TEST_PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))

    assert token_login("annotator", TEST_PASSWORD).status_code == 200


def test_below_the_limit_the_right_password_works_and_does_not_reset_the_count(annotator, other_annotator, limit_of_three):
    """Resetting on success would let one account's holder guess at others from the same address for ever."""
    assert token_login("victim", "wrong").status_code == 400
    assert token_login("victim", "wrong-again").status_code == 400
    assert token_login("annotator", TEST_PASSWORD).status_code == 200

    assert token_login("other_annotator", "guess").status_code == 429


def test_the_cool_off_comes_from_the_settings(annotator, limit_of_three, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    fail_until_the_limit()

    refused = token_login("annotator", TEST_PASSWORD)

    assert refused["Retry-After"] == "60" and "Try again in 1 minute." in refused.json()["detail"]


# The browser's login and the admin's.

@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_the_login_pages_lock_out_with_a_429_page(staff, path, limit_of_three):
    client = Client()
    statuses = [client.post(path, {"username": "staff", "password": f"wrong-{n}"}).status_code for n in range(3)]
    assert statuses == [200, 200, 429]  # the form again with its error, then the lockout

    locked = client.post(path, {"username": "staff", "password": TEST_PASSWORD})

    assert locked.status_code == 429 and locked["Retry-After"] == "900"
    body = locked.content.decode()
    assert "<h1>Too many sign-in attempts</h1>" in body and LOCKED in body
    assert f'href="{path}"' in body
    assert "_auth_user_id" not in client.session


def test_failures_on_the_login_page_count_for_the_api_too(annotator, limit_of_three):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "annotator", "password": "wrong"})

    assert token_login("annotator", TEST_PASSWORD, "10.3.3.3").status_code == 429


# Tokens: expiry, revocation, rotation.

def test_a_token_expires_after_the_ttl_with_a_clear_401(annotator, settings):
    settings.LABELER_TOKEN_TTL_HOURS = 24
    issued = token_login("annotator", TEST_PASSWORD).json()
    assert with_token(issued["token"]).get("/api/projects/").status_code == 200
    assert issued["expires_at"] is not None

    Token.objects.filter(key=issued["token"]).update(created=timezone.now() - timedelta(hours=24, seconds=1))
    expired = with_token(issued["token"]).get("/api/projects/")

    assert expired.status_code == 401
    assert expired.json()["detail"].startswith("Token expired at ") and "POST /api/auth/token/" in expired.json()["detail"]
    renewed = token_login("annotator", TEST_PASSWORD).json()["token"]
    assert renewed != issued["token"] and with_token(renewed).get("/api/projects/").status_code == 200


def test_tokens_never_expire_without_a_ttl(annotator):
    issued = token_login("annotator", TEST_PASSWORD).json()
    Token.objects.filter(key=issued["token"]).update(created=timezone.now() - timedelta(days=3650))

    assert issued["expires_at"] is None
    assert with_token(issued["token"]).get("/api/projects/").status_code == 200


def test_delete_revokes_the_callers_token(annotator):
    token = token_login("annotator", TEST_PASSWORD).json()["token"]

    revoked = with_token(token).delete("/api/auth/token/")

    assert revoked.status_code == 204
    assert with_token(token).get("/api/projects/").json() == {"detail": "Invalid token."}
    assert APIClient().delete("/api/auth/token/").status_code == 401
    assert token_login("annotator", TEST_PASSWORD).json()["token"] != token


def test_rotate_answers_a_new_token_and_the_old_one_stops_working(annotator):
    old = token_login("annotator", TEST_PASSWORD).json()["token"]

    rotated = with_token(old).post("/api/auth/token/rotate/")

    assert rotated.status_code == 200
    new = rotated.json()["token"]
    assert new != old
    assert with_token(old).get("/api/projects/").status_code == 401
    assert with_token(new).get("/api/projects/").status_code == 200
    assert APIClient().post("/api/auth/token/rotate/").status_code == 401


def test_signing_in_with_a_stale_token_header_still_works(annotator):
    client = with_token("0" * 40)

    response = client.post("/api/auth/token/", {"username": "annotator", "password": TEST_PASSWORD}, format="json")

    assert response.status_code == 200


# Passwords.

def test_a_password_like_the_username_or_email_is_refused(api, staff):
    body = {"username": "margaret.hamilton", "email": "mhamilton@example.com", "password": "margaret.hamilton"}

    response = api(staff).post("/api/users/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"password": ["The password is too similar to the username."]}
    assert api(staff).post("/api/users/", {**body, "password": "apollo-guidance-computer-11"}, format="json").status_code == 201
