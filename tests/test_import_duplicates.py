"""Re-running an import is safe: the same content into the same project answers 409 naming the earlier import
job while that job is queued, running or done, unless ?allow_duplicate=true; on the 201 and the 202 path alike."""
import hashlib
import json
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from projects.models import Task
from tests.conftest import client_for
from projects.models import Job

CONTENT = b"".join(json.dumps({"text": f"review {i}"}).encode() + b"\n" for i in range(12))


def post_file(project, content: bytes = CONTENT, name: str = "reviews.jsonl", query: str = ""):
    upload = SimpleUploadedFile(name, content)
    return client_for(project.created_by).post(f"/api/projects/{project.pk}/import{query}", {"file": upload}, format="multipart")


@pytest.mark.django_db
def test_the_same_file_again_is_a_409_naming_the_first_import(text_project):
    first = post_file(text_project)
    assert first.status_code == 201
    job_id = int(first["Location"].rstrip("/").rsplit("/", 1)[-1])
    job = Job.objects.get(pk=job_id)
    assert (job.kind, job.status, job.params["checksum"]) == ("import", "succeeded", hashlib.sha256(CONTENT).hexdigest())

    again = post_file(text_project, name="renamed.jsonl")  # the content counts, not the name

    assert again.status_code == 409
    assert again.json()["job"] == job_id
    assert f"same file as import job {job_id}" in again.json()["detail"]
    assert Task.objects.filter(project=text_project).count() == 12


@pytest.mark.django_db
def test_allow_duplicate_imports_the_same_file_again(text_project):
    assert post_file(text_project).status_code == 201
    assert post_file(text_project, query="?allow_duplicate=true").status_code == 201
    assert Task.objects.filter(project=text_project).count() == 24
    assert post_file(text_project, query="?allow_duplicate=perhaps").status_code == 400


@pytest.mark.django_db
def test_a_json_body_is_hashed_like_the_same_bytes_in_a_file(text_project):
    body = json.dumps([{"text": "a"}, {"text": "b"}]).encode()
    client = client_for(text_project.created_by)
    assert client.post(f"/api/projects/{text_project.pk}/import", body, content_type="application/json").status_code == 201
    assert post_file(text_project, body, name="same.json").status_code == 409


@pytest.mark.django_db
def test_other_content_or_another_project_is_no_duplicate(text_project, manager):
    from projects import services

    assert post_file(text_project).status_code == 201
    assert post_file(text_project, CONTENT + b'{"text": "one more"}\n').status_code == 201
    other = services.create_project(creator=manager, title="Other", label_config=text_project.label_config)
    assert post_file(other).status_code == 201


@pytest.mark.django_db
def test_a_failed_or_cancelled_import_does_not_block_trying_again(text_project):
    first = post_file(text_project)
    job_id = int(first["Location"].rstrip("/").rsplit("/", 1)[-1])
    Job.objects.filter(pk=job_id).update(status=Job.Status.FAILED)
    assert post_file(text_project).status_code == 201


@pytest.mark.django_db
def test_a_queued_import_job_makes_the_same_file_a_409(text_project, settings):
    # Plain `db`: on_commit never fires, so the first job stays queued, as while a worker is busy.
    settings.LABELER_IMPORT_SYNC_MAX_TASKS = 10
    queued = post_file(text_project)
    assert queued.status_code == 202
    assert Job.objects.get(pk=queued.json()["id"]).params["checksum"] == hashlib.sha256(CONTENT).hexdigest()

    again = post_file(text_project)

    assert (again.status_code, again.json()["job"]) == (409, queued.json()["id"])
    assert Job.objects.filter(project=text_project, kind="import").count() == 1  # no second job, nothing staged
    settings.LABELER_IMPORT_SYNC_MAX_TASKS = 5000
    assert post_file(text_project).status_code == 409  # the small path checks the queued job too


@pytest.mark.django_db(transaction=True)
def test_two_identical_imports_racing_import_once(text_project):
    """Both requests at once, each in its own thread and connection: one imports, the other gets 409."""
    answers, barrier = [], threading.Barrier(2)

    def post():
        barrier.wait()
        try:
            answers.append(post_file(text_project).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [201, 409]
    assert Task.objects.filter(project=text_project).count() == 12


@pytest.mark.parametrize("size", [100, 5 * 1024 * 1024], ids=["in memory", "temporary file"])
def test_uploads_are_hashed_as_they_stream_in(size):
    from django.test import RequestFactory

    content = b"x" * size
    request = RequestFactory().post("/", {"file": SimpleUploadedFile("a.txt", content)})
    assert request.FILES["file"].sha256 == hashlib.sha256(content).hexdigest()
