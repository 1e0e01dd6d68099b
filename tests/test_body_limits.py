"""Request body caps: ordinary endpoints answer 413 before reading a body over LABELER_MAX_BODY_BYTES, imports take
large bodies streamed to disk, and ZIP bombs are refused from the archive's directory, naming the entry."""
import io
import json
import os
import socket
import subprocess
import sys
import tracemalloc
import zipfile

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from labeler.body_limits import CappedStream, RequestBodyTooLarge
from projects.models import Annotation, Project, Task
from tests.api_helpers import import_texts, sentiment
from tests.conftest import client_for, worker_database_url
from tests.sample_files import png_bytes
from tests.waiting import wait_until

MiB = 1024 * 1024


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, size=-1):
        raise AssertionError("the body was read")

    readinto = read


def server_side_peak(user, path: str, **request) -> tuple[object, int]:
    """Send a request through Django's whole handler and answer (response, peak bytes allocated meanwhile). The
    request body is built first, so the peak is what the server side held, not the test's copy of the body."""
    from django.test.client import ClientHandler, RequestFactory
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    environ = RequestFactory().post(path, HTTP_AUTHORIZATION=f"Token {token.key}", **request).environ
    tracemalloc.start()
    try:
        response = ClientHandler(enforce_csrf_checks=False)(environ)
        return response, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def post_declaring(path: str, length: int, client=None):
    """POST a body whose Content-Length says `length`, without ever having to send (or read) that many bytes."""
    client = client or Client()
    return client.generic("POST", path, b"", content_type="application/json", CONTENT_LENGTH=str(length), **{"wsgi.input": Unreadable()})


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/auth/token/", "/api/projects/", "/login/", "/api/tasks/1/annotations/"])
def test_a_body_declared_over_the_cap_is_a_json_413_before_it_is_read(path):
    response = post_declaring(path, django_settings.LABELER_MAX_BODY_BYTES + 1)
    assert response.status_code == 413
    assert "byte limit for this endpoint" in response.json()["detail"]


@pytest.mark.django_db
def test_the_cap_is_a_setting_and_covers_creating_projects_and_submitting(api, manager, annotator, text_project, settings):
    settings.LABELER_MAX_BODY_BYTES = 2000
    (task,) = import_texts(text_project, "short")
    padding = "x" * 3000
    token = client_for(None).post("/api/auth/token/", {"username": "manager", "password": padding}, format="json")
    create = api(manager).post("/api/projects/", {"title": padding, "label_config": "<View/>"}, format="json")
    submit = api(annotator).post(f"/api/tasks/{task.pk}/annotations/", {"result": [sentiment("Positive")], "cancel_reason": padding}, format="json")
    assert [token.status_code, create.status_code, submit.status_code] == [413, 413, 413]
    assert Project.objects.count() == 1 and not Annotation.objects.exists()
    small = api(annotator).post(f"/api/tasks/{task.pk}/annotations/", {"result": [sentiment("Positive")]}, format="json")
    assert small.status_code == 201


@pytest.mark.django_db
def test_only_the_import_takes_bodies_over_the_cap(api, manager, text_project, settings):
    settings.LABELER_MAX_BODY_BYTES = 2000
    body = json.dumps([{"text": "x" * 100} for _ in range(50)])
    response = api(manager).post(f"/api/projects/{text_project.pk}/import", body, content_type="application/json")
    assert response.status_code == 201, response.content
    over = post_declaring(f"/api/projects/{text_project.pk}/import", django_settings.LABELER_IMPORT_MAX_BYTES + 1)
    assert over.status_code == 413


def test_a_body_of_unknown_length_is_stopped_at_the_cap_while_it_is_read():
    stream = CappedStream(io.BytesIO(b"x" * 5000), 1000)
    assert stream.read(600) == b"x" * 600
    with pytest.raises(RequestBodyTooLarge):
        stream.read(600)
    with pytest.raises(RequestBodyTooLarge):
        CappedStream(io.BytesIO(b"x" * 5000), 1000).read()  # a read of "everything" still stops past the cap


@pytest.mark.django_db
def test_a_30_mb_json_import_still_works(api, manager, text_project):
    tasks = [{"text": f"review {i} " + "word " * 1600} for i in range(4000)]
    body = json.dumps(tasks).encode()
    assert len(body) > 30 * MiB
    response = api(manager).post(f"/api/projects/{text_project.pk}/import", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert Task.objects.filter(project=text_project).count() == 4000


def test_a_json_import_body_is_spooled_to_disk_in_chunks_not_held():
    from projects.imports.uploads import spool_body

    body = io.BytesIO(b"[" + b'{"text": "x"},' * (3 * MiB) + b'{"text": "y"}]')  # ~40 MiB
    tracemalloc.start()
    try:
        spooled = spool_body(body, name="request-body.json", content_type="application/json", limit=100 * MiB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    with spooled:
        assert spooled.size == len(body.getvalue()) and spooled.read(2) == b'[{'
        assert os.path.exists(spooled.temporary_file_path())
    assert peak < 4 * MiB, f"peak {peak / MiB:.1f} MiB"


def zip_of_zeros(entries: int, size: int) -> bytes:
    buffer = io.BytesIO()
    zeros = bytes(MiB)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(entries):
            with archive.open(f"scan{index}.png", "w") as entry:
                for _ in range(size // MiB):
                    entry.write(zeros)
    return buffer.getvalue()


@pytest.mark.django_db
def test_a_zip_bomb_is_refused_from_its_directory_naming_the_entry(api, manager, image_project):
    bomb = zip_of_zeros(7, 20 * MiB)  # 7 x 20 MiB of zeros in ~140 KB: a 1000:1 ratio
    assert len(bomb) < 1 * MiB
    upload = SimpleUploadedFile("scans.zip", bomb)
    response, peak = server_side_peak(manager, f"/api/projects/{image_project.pk}/import", data={"file": upload})
    assert response.status_code == 413
    detail = json.loads(response.content)["detail"]
    assert "entry 'scan0.png' unpacks" in detail and "over the 100:1 limit" in detail
    assert peak < 5 * MiB  # nothing was unpacked
    assert not Task.objects.filter(project=image_project).exists()


@pytest.mark.django_db
def test_the_compression_ratio_limit_is_a_setting(api, manager, image_project, settings):
    settings.LABELER_ZIP_MAX_RATIO = 2000
    upload = SimpleUploadedFile("scans.zip", zip_of_zeros(1, 2 * MiB))
    response = api(manager).post(f"/api/projects/{image_project.pk}/import", {"file": upload}, format="multipart")
    assert response.status_code == 400 and "not an image" in response.json()["detail"]  # past the ratio check


@pytest.mark.django_db
def test_zip_entries_are_unpacked_as_streams_not_whole(api, manager, image_project):
    """A large, barely compressible image in a ZIP: checked and stored in chunks, never held whole."""
    import numpy

    pixels = numpy.random.default_rng(1).integers(0, 255, (1500, 2500, 3), dtype=numpy.uint8)
    from PIL import Image

    image = io.BytesIO()
    Image.fromarray(pixels).save(image, format="PNG", compress_level=0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("noise.png", image.getvalue())
    upload = SimpleUploadedFile("noise.zip", buffer.getvalue())
    assert image.tell() > 10 * MiB
    response, peak = server_side_peak(manager, f"/api/projects/{image_project.pk}/import", data={"file": upload})
    assert response.status_code == 201, response.content
    assert peak < image.tell() / 2, f"peak {peak / MiB:.1f} MiB for a {image.tell() / MiB:.1f} MiB entry"
    assert Task.objects.get(project=image_project).meta["image_width"] == 2500


def test_a_png_alone_still_imports(db, api, manager, image_project):
    upload = SimpleUploadedFile("cat.png", png_bytes(10, 8))
    assert api(manager).post(f"/api/projects/{image_project.pk}/import", {"file": upload}, format="multipart").status_code == 201


# --- a real gunicorn worker's memory ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peak_rss_kib(pid: int) -> int:
    """The process's high-water mark of resident memory (a freed buffer leaves RSS, not this)."""
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def answers_on(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def gunicorn_server(db):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "DB_CONN_MAX_AGE": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "labeler.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--worker-class", "gthread", "--threads", "2", "--no-control-socket"],
        env=env, cwd=django_settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: answers_on(port), 30, f"gunicorn did not listen on port {port}")
        children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        yield port, int(children[0])
    finally:
        server.terminate()
        server.wait(timeout=20)


def send_body(port: int, path: str, size: int, *, chunked: bool) -> int:
    """POST `size` bytes of JSON-ish padding; answer the status line's code (the server may stop reading early)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
        conn.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{length}\r\n\r\n".encode())
        piece, sent = b'{"username": "' + b"x" * (MiB - 20), 0
        try:
            while sent < size:
                conn.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
                sent += len(piece)
            if chunked:
                conn.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed before the whole body was sent: what we want
        return int(conn.recv(4096).split(b" ", 2)[1])


def test_a_50_mb_body_to_the_token_endpoint_does_not_grow_a_gunicorn_worker(gunicorn_server):
    port, worker_pid = gunicorn_server
    assert send_body(port, "/api/auth/token/", 1000, chunked=False) in (400, 413)  # warm the worker up
    before = peak_rss_kib(worker_pid)
    assert send_body(port, "/api/auth/token/", 50 * MiB, chunked=False) == 413, "refused before it is read"
    # Django reads no body of unknown length (WSGI gives it none); the cap stops it were one ever read.
    assert send_body(port, "/api/auth/token/", 50 * MiB, chunked=True) in (400, 413)
    growth_mib = (peak_rss_kib(worker_pid) - before) / 1024
    assert growth_mib < 30, f"the worker grew by {growth_mib:.0f} MiB"
