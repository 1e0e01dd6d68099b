"""Server-side request forgery: an ML backend URL may not lead to an internal address (loopback, private,
link-local...) unless LABELER_OUTBOUND_ALLOWED_HOSTS lists it; checked when saved (API and admin), when called
(a real worker), on every redirect, against the address actually connected to; and what a backend answers
never reaches the job's error."""
import html
import ipaddress
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from labeler import outbound
from ml.engines.http_backend import BackendNotAllowed, HttpBackend
from ml.engines.base import TaskInput
from ml.models import ProjectModel
from tests.api_helpers import import_texts
from tests.conftest import wait_for_job
from tests.fake_ml_backend import FakeMLBackend
from tests.waiting import wait_until

SECRET = "INTERNAL-SECRET-TOKEN=s3cr3t-value"
INTERNAL_URLS = [
    "http://127.0.0.1:8000", "http://localhost:8000", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1",
    "http://[::1]:8000", "http://0.0.0.0:8000", "http://192.168.1.10", "http://172.16.0.1", "http://224.0.0.1",
    "http://[::ffff:127.0.0.1]", "http://[fe80::1]", "http://100.64.0.1", "https://127.0.0.2:8443",
]


class ScriptedServer:
    """A real HTTP server on 127.0.0.1 answering each path as scripted: {path: (status, headers, body)}."""

    def __init__(self, routes: dict[str, tuple[int, dict, bytes]]):
        self.routes = routes
        self.requests: list[tuple[str, str, dict]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                server.requests.append((self.command, self.path, dict(self.headers)))
                status, headers, body = server.routes.get(self.path, (404, {}, b"{}"))
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.http.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.http.shutdown()
        self.http.server_close()


def put_model(api, manager, project, **settings):
    return api(manager).put(f"/api/projects/{project.pk}/model/", {"engine": "http", **settings}, format="json")


def run_prelabel(api, manager, project) -> dict:
    started = api(manager).post(f"/api/projects/{project.pk}/predict/", {}, format="json")
    assert started.status_code == 202, started.json()
    wait_for_job(started.json()["id"])
    return api(manager).get(started.json()["url"]).json()


# Saving a URL: the API and the admin.

@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_the_api_refuses_an_internal_backend_url(api, manager, text_project, url):
    response = put_model(api, manager, text_project, url=url)

    assert response.status_code == 400, response.json()
    assert "LABELER_OUTBOUND_ALLOWED_HOSTS" in response.json()["url"][0]
    assert not ProjectModel.objects.filter(project=text_project).exists()


def test_a_name_that_resolves_to_loopback_is_refused_by_what_it_resolves_to(api, manager, text_project):
    response = put_model(api, manager, text_project, url="http://localhost:8000/")

    assert response.status_code == 400
    assert response.json()["url"] == ["localhost resolves to a loopback address; list the host in LABELER_OUTBOUND_ALLOWED_HOSTS to allow it"]


def test_a_public_address_and_an_allowed_host_are_accepted(api, manager, text_project, settings):
    assert put_model(api, manager, text_project, url="http://93.184.215.14:9090").status_code == 200

    settings.LABELER_OUTBOUND_ALLOWED_HOSTS = ["ml.internal", "127.0.0.1:9090", "[::1]"]
    assert put_model(api, manager, text_project, url="http://127.0.0.1:9090").status_code == 200
    assert put_model(api, manager, text_project, url="http://[::1]:7000").status_code == 200
    assert put_model(api, manager, text_project, url="http://127.0.0.1:9091").status_code == 400  # another port


def test_an_unresolvable_host_or_a_url_with_credentials_is_refused(api, manager, text_project):
    unresolvable = put_model(api, manager, text_project, url="http://no-such-host.invalid/")
    with_password = put_model(api, manager, text_project, url="http://user:pw@93.184.215.14/")

    assert unresolvable.status_code == 400 and "cannot be resolved" in unresolvable.json()["url"][0]
    assert with_password.status_code == 400 and "user name or password" in with_password.json()["url"][0]


def test_patching_an_allowed_backend_after_the_allowance_is_gone_is_refused(api, manager, text_project, settings):
    settings.LABELER_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    assert put_model(api, manager, text_project, url="http://127.0.0.1:9090").status_code == 200
    settings.LABELER_OUTBOUND_ALLOWED_HOSTS = []

    response = api(manager).patch(f"/api/projects/{text_project.pk}/model/", {"timeout": 5}, format="json")

    assert response.status_code == 400 and "url" in response.json()


def test_the_admin_refuses_an_internal_backend_url_on_the_url_field(manager, text_project):
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    manager.user_permissions.set(Permission.objects.filter(content_type__app_label="ml"))
    client = Client()
    client.force_login(manager)
    form = {"project": text_project.pk, "engine": "http", "control": "", "url": "http://169.254.169.254/", "timeout": "30",
            "label_map": "{}", "min_labels": "10", "retrain_every": "50", "api_key_env": "LABELER_LLM_API_KEY",
            "structured_output": "json_schema", "fewer_humans_confidence": "0"}

    response = client.post("/admin/ml/projectmodel/add/", form)

    assert response.status_code == 200  # the form again, with its error
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["url"] and "link-local address" in errors["url"][0]
    assert "link-local address" in html.unescape(response.content.decode())
    assert not ProjectModel.objects.filter(project=text_project).exists()


# Calling: a real worker process, which allows 127.0.0.1 only (tests/conftest.py).

@pytest.mark.worker
def test_the_worker_refuses_a_url_that_became_internal_after_it_was_saved(worker, api, manager, text_project):
    import_texts(text_project, "good")
    with FakeMLBackend() as backend:
        # Saved while it was allowed (or while its name resolved elsewhere); "localhost" is not on the worker's list.
        ProjectModel.objects.create(project=text_project, engine="http", url=f"http://localhost:{backend.url.rsplit(':', 1)[1]}")
        job = run_prelabel(api, manager, text_project)

    assert job["status"] == "failed"
    assert "may not be called: localhost resolves to a loopback address" in job["error"]
    assert backend.requests == []


@pytest.mark.worker
@pytest.mark.usefixtures("loopback_backends")
def test_a_redirect_to_an_internal_address_is_not_followed(worker, api, manager, text_project):
    import_texts(text_project, "good")
    with ScriptedServer({"/": (200, {}, SECRET.encode())}) as internal:
        redirect = {"Location": f"http://localhost:{internal.port}/"}
        with ScriptedServer({"/health": (307, redirect, b""), "/predict": (307, redirect, b"")}) as allowed:
            assert put_model(api, manager, text_project, url=allowed.url).status_code == 200
            job = run_prelabel(api, manager, text_project)

    assert job["status"] == "failed"
    assert "localhost resolves to a loopback address" in job["error"] and SECRET not in json.dumps(job)
    assert [path for _, path, _ in allowed.requests] == ["/health"]
    assert internal.requests == []


@pytest.mark.worker
@pytest.mark.usefixtures("loopback_backends")
@pytest.mark.parametrize("predict", [
    (500, {}, SECRET.encode()),
    (400, {"Content-Type": "text/plain"}, f"bad request: {SECRET}".encode()),
    (200, {}, f"<html>{SECRET}</html>".encode()),
    (200, {}, json.dumps({"results": [SECRET]}).encode()),
    (200, {}, json.dumps({"results": [{"result": [{"from_name": SECRET, "type": "choices", "value": {}}]}]}).encode()),
], ids=["500", "400", "not-json", "not-a-prediction", "does-not-fit"])
def test_what_a_backend_answers_never_reaches_the_job(worker, api, manager, text_project, predict):
    import_texts(text_project, "good")
    routes = {"/health": (200, {}, b'{"status": "UP"}'), "/setup": (200, {}, b"{}"), "/predict": predict,
              "/webhook": (403, {}, SECRET.encode())}
    with ScriptedServer(routes) as backend:
        assert put_model(api, manager, text_project, url=backend.url).status_code == 200
        job = run_prelabel(api, manager, text_project)
        assert api(manager).post(f"/api/projects/{text_project.pk}/model/train/").status_code == 202
        wait_until(lambda: ProjectModel.objects.get(project=text_project).training_state == "idle", 30,
                   "the training did not end", interval=0.05)
        model = api(manager).get(f"/api/projects/{text_project.pk}/model/").json()

    assert job["status"] == "failed" and job["error"]
    assert SECRET not in json.dumps(job), job
    assert SECRET not in model["training_error"] and "HTTP 403 Forbidden" in model["training_error"]
    if predict[0] >= 400:
        assert f"HTTP {predict[0]}" in job["error"]


# The check itself, and the engine on a real loopback server.

@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"), ("172.31.0.1", "private"),
    ("192.168.0.1", "private"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("224.0.0.251", "multicast"),
    ("ff02::1", "multicast"), ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("240.0.0.1", "reserved"),
    ("::ffff:10.0.0.1", "private"), ("2002:7f00:1::", "loopback"), ("fd00::1", "private"), ("100.64.0.1", "non-public"),
    ("93.184.215.14", None), ("2606:4700::1111", None), ("8.8.8.8", None),
])
def test_internal_kind(address, kind):
    assert outbound.internal_kind(ipaddress.ip_address(address)) == kind


def test_every_address_a_name_resolves_to_is_checked(settings, monkeypatch):
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["93.184.215.14", "10.0.0.5"])

    with pytest.raises(outbound.URLRefused, match="ml.example resolves to a private address"):
        outbound.check_url("https://ml.example/predict")


@pytest.mark.parametrize("entry, host, port, allowed", [
    ("ml.local", "ML.local", 1234, True), ("ml.local:8080", "ml.local", 8080, True), ("ml.local:8080", "ml.local", 8081, False),
    ("[::1]:9000", "::1", 9000, True), ("[::1]", "::1", 1, True), ("::1", "::1", 1, True), ("other", "ml.local", 80, False),
])
def test_allowed_hosts_entries(settings, entry, host, port, allowed):
    settings.LABELER_OUTBOUND_ALLOWED_HOSTS = [entry]
    assert outbound.is_allowed(host, port) is allowed


def test_a_request_connects_to_the_checked_address_and_resolves_once(settings, monkeypatch):
    """DNS rebinding: a second lookup could answer an internal address; the request never makes one."""
    settings.LABELER_OUTBOUND_ALLOWED_HOSTS = ["backend.test"]
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])
    lookups = []
    monkeypatch.setattr(outbound, "resolve", lambda host, port: lookups.append(host) or next(answers))
    with ScriptedServer({"/health": (200, {}, b"{}")}) as server:
        answer = outbound.request("GET", f"http://backend.test:{server.port}/health", timeout=5, max_bytes=100)

    assert (answer.status, lookups) == (200, ["backend.test"])
    assert server.requests[0][2]["Host"] == f"backend.test:{server.port}"


def test_allowed_redirects_are_followed_and_counted(settings):
    settings.LABELER_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    with ScriptedServer({}) as server:
        server.routes.update({
            "/old": (308, {"Location": "/new"}, b""), "/new": (200, {}, b'{"ok": true}'),
            "/loop": (302, {"Location": "/loop"}, b""),
        })
        moved = outbound.request("POST", f"{server.url}/old", body=b"{}", timeout=5, max_bytes=100)
        with pytest.raises(outbound.URLRefused, match="more than 3 redirects"):
            outbound.request("GET", f"{server.url}/loop", timeout=5, max_bytes=100)

    assert (moved.status, moved.body, moved.url) == (200, b'{"ok": true}', f"{server.url}/new")
    assert [(method, path) for method, path, _ in server.requests[:2]] == [("POST", "/old"), ("POST", "/new")]
    assert len(server.requests) == 2 + 4


def test_the_engine_refuses_a_redirect_to_metadata_without_retrying(settings):
    settings.LABELER_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    with ScriptedServer({"/health": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")}) as server:
        backend = HttpBackend(url=server.url, label_config="<View/>", project_id=1, retries=2, backoff=0)
        with pytest.raises(BackendNotAllowed, match="169.254.169.254 is a link-local address"):
            backend.predict([TaskInput(1, {"text": "x"})])

    assert len(server.requests) == 1
