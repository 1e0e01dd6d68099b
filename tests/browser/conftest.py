"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

One browser for the session (pytest-playwright's `browser`), a fresh context per test. Users are logged in by
putting a Django session cookie into the context; test_login goes through the login form itself.
"""
import os
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from tests.waiting import wait_until

CHROMIUM = os.environ.get("LABELER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
VENDOR = Path(settings.BASE_DIR) / "frontend" / "static" / "frontend" / "vendor" / "annotorious" / "annotorious.js"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (or set LABELER_CHROMIUM)")
    if not VENDOR.exists():
        pytest.fail("Annotorious is not vendored: run `make frontend/static/frontend/vendor/.installed` (make test does)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}}


class InFlight:
    """Counts the live server's requests in progress, so a test ends only once the browser's last one is done.

    A page's last requests (the lease release sent as the page goes away, a prefetch) would otherwise still run
    while pytest-django empties the tables after the test, and PostgreSQL reports a deadlock. The goodbye request
    is sent with `keepalive` from a page being unloaded, which Playwright does not report, so the test cannot know
    whether one is still on its way: once the test is over the server is closed, and a late one gets a 503 without
    touching the database."""

    def __init__(self, app):
        self.app = app
        self.count = 0
        self.accepting = True
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            admitted = self.accepting
            self.count += admitted
        if not admitted:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"the test is over"]
        try:
            result = self.app(environ, start_response)
            try:
                return list(result)
            finally:
                if hasattr(result, "close"):
                    result.close()  # Django's request_finished: closes the thread's database connection
        finally:
            with self.lock:
                self.count -= 1

    def open(self) -> None:
        with self.lock:
            self.accepting = True

    def close_when_idle(self, timeout: float = 10) -> None:
        """Refuse new requests, then wait for the ones in progress."""
        with self.lock:
            self.accepting = False
        wait_until(lambda: self.count == 0, timeout, "the live server was still answering a request", interval=0.02)


@pytest.fixture(scope="session")
def in_flight(live_server) -> InFlight:
    server = live_server.thread.httpd
    if not isinstance(server.get_app(), InFlight):
        server.set_app(InFlight(server.get_app()))
    return server.get_app()


@pytest.fixture(autouse=True)
def quiet_server_after_test(context, in_flight):
    """Unload every page (so it sends its goodbye requests), then close the server before the tables are emptied.
    Torn down after the test's other fixtures (the phone's pages too), and before pytest-django's flush."""
    yield
    for page in context.pages:
        page.goto("about:blank")
    in_flight.close_when_idle()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item):
    """Open the live server again once the tables are emptied, for the next test (browser or not) that calls it."""
    server = item.funcargs.get("in_flight")
    try:
        return (yield)
    finally:
        if server is not None:
            server.open()


def _signed_in_page(context, user, url: str):
    """A new page of `context`, logged in as `user` by a session cookie (no password round trip)."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    return page


@pytest.fixture
def signed_in(live_server, context):
    """signed_in(user) -> a page of a browser logged in as that user."""
    return lambda user: _signed_in_page(context, user, live_server.url)


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
def phone(live_server, browser, in_flight):
    """phone(user) -> a page of a 390x844 touch screen (an iPhone 12-14's size) logged in as that user."""
    contexts = []

    def sign_in(user):
        contexts.append(browser.new_context(**PHONE))
        return _signed_in_page(contexts[-1], user, live_server.url)

    yield sign_in
    for phone_context in contexts:
        for page in phone_context.pages:
            page.goto("about:blank")  # its goodbye requests, before quiet_server_after_test closes the server
        phone_context.close()


@pytest.fixture
def screenshot():
    def take(page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return take
