"""POST /api/projects/{id}/import: every format, every refusal (and that a refusal imports nothing), the job path."""
import json

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from workers.tasks import run_import_job
from projects.models import Annotation, Prediction, Task
from tests.conftest import wait_for_job
from tests.sample_files import png_bytes, png_claiming_size, zip_bytes, zip_with_corrupt_entry
from projects.models import Job

SPAN = {"from_name": "entities", "to_name": "text", "type": "labels",
        "value": {"start": 13, "end": 19, "text": "London", "labels": ["LOC"]}}
POSITIVE = {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
ANGRY = {**POSITIVE, "value": {"choices": ["Angry"]}}
# A task as Label Studio exports it: ids and bookkeeping keys Labeler does not use ride along.
LABEL_STUDIO_TASK = {
    "id": 17, "inner_id": 1, "file_upload": "reviews.json", "meta": {"source": "ls-export"},
    "data": {"text": "Ann lives in London."},
    "annotations": [{"id": 3, "completed_by": 1, "lead_time": 4.5, "was_cancelled": False, "ground_truth": False,
                     "created_at": "2024-01-01T00:00:00Z", "result": [{"id": "r1", **SPAN}, {"id": "r2", **POSITIVE}]}],
    "predictions": [{"id": 9, "model_version": "ner-v2", "score": 0.8, "result": [SPAN]}],
}


def import_url(project) -> str:
    return f"/api/projects/{project.pk}/import"


def post_file(client, project, name: str, content: bytes):
    return client.post(import_url(project), {"file": SimpleUploadedFile(name, content)}, format="multipart")


def post_json(client, project, body):
    return client.post(import_url(project), body, format="json")


def jsonl(*items) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


def texts_of(client, project) -> list[str]:
    response = client.get(f"/api/projects/{project.pk}/tasks/", {"page_size": 100})
    assert response.status_code == 200
    return [task["data"]["text"] for task in response.json()["results"]]


def counters(client, project) -> dict:
    body = client.get(f"/api/projects/{project.pk}/").json()
    return {key: body[key] for key in ("task_count", "finished_task_count", "annotation_count")}


def assert_refused(response, status: int, *fragments: str, project) -> None:
    """The answer names the problem, and the project is exactly as it was: no task, prediction or annotation."""
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    for fragment in fragments:
        assert fragment in detail
    assert not Task.objects.filter(project=project).exists()
    assert not Prediction.objects.filter(project=project).exists()
    assert not Annotation.objects.filter(project=project).exists()
    project.refresh_from_db()
    assert project.task_count == 0


def browser_for(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


# --- every format imports ---------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_json_body_list_imports_tasks_and_moves_counters(api, manager, text_project):
    client = api(manager)
    response = post_json(client, text_project, [{"text": "Great phone."}, {"data": {"text": "Bad screen."}}])
    assert response.status_code == 201
    assert response.json() == {"task_count": 2, "annotation_count": 0, "prediction_count": 0}
    assert texts_of(client, text_project) == ["Great phone.", "Bad screen."]
    assert counters(client, text_project) == {"task_count": 2, "finished_task_count": 0, "annotation_count": 0}


@pytest.mark.django_db
def test_json_body_single_object_is_one_task(api, manager, text_project):
    response = post_json(api(manager), text_project, {"text": "Just one."})
    assert response.status_code == 201
    assert response.json()["task_count"] == 1


@pytest.mark.django_db
def test_label_studio_export_keeps_annotations_and_predictions(api, manager, text_project):
    client = api(manager)
    response = post_json(client, text_project, [LABEL_STUDIO_TASK])
    assert response.status_code == 201
    assert response.json() == {"task_count": 1, "annotation_count": 1, "prediction_count": 1}
    assert counters(client, text_project) == {"task_count": 1, "finished_task_count": 1, "annotation_count": 1}
    task = Task.objects.get(project=text_project)
    assert task.meta == {"source": "ls-export", "label_studio": {"id": 17, "inner_id": 1, "file_upload": "reviews.json"}}
    detail = client.get(f"/api/tasks/{task.pk}/").json()
    assert detail["data"] == {"text": "Ann lives in London."}
    assert [item["from_name"] for item in detail["annotations"][0]["result"]] == ["entities", "sentiment"]
    assert detail["annotations"][0]["lead_time"] == 4.5
    assert detail["predictions"][0]["model_version"] == "ner-v2"
    assert detail["predictions"][0]["score"] == 0.8


FILES = {
    "json list": ("tasks.json", json.dumps([{"text": "a"}, LABEL_STUDIO_TASK]).encode(), ["a", "Ann lives in London."]),
    "json object": ("task.json", b'\xef\xbb\xbf{"data": {"text": "alone"}}', ["alone"]),
    "jsonl": ("tasks.jsonl", b'{"text": "a"}\r\n\r\n{"data": {"text": "b"}}', ["a", "b"]),
    "csv": ("tasks.csv", b'text,source\r\n"Hello, world",web\r\n"two\nlines",app\r\n', ["Hello, world", "two\nlines"]),
    "tsv": ("tasks.tsv", "text\tsource\nCaf\u00e9 cr\u00e8me\tweb\n".encode(), ["Caf\u00e9 cr\u00e8me"]),
    "txt": ("tasks.txt", b"first review\n\n   \nsecond review\n", ["first review", "second review"]),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name, content, texts", FILES.values(), ids=FILES.keys())
def test_task_files_import(api, manager, text_project, name, content, texts):
    client = api(manager)
    response = post_file(client, text_project, name, content)
    assert response.status_code == 201, response.json()
    assert response.json()["task_count"] == len(texts)
    assert texts_of(client, text_project) == texts
    assert counters(client, text_project)["task_count"] == len(texts)


@pytest.mark.django_db
def test_png_becomes_a_task_served_to_members_only(api, manager, annotator, outsider, image_project):
    content = png_bytes(40, 30)
    response = post_file(api(manager), image_project, "cat.png", content)
    assert response.status_code == 201
    assert response.json() == {"task_count": 1, "annotation_count": 0, "prediction_count": 0}
    task = Task.objects.get(project=image_project)
    assert task.meta == {"file_name": "cat.png", "image_width": 40, "image_height": 30}
    url = task.data["image"]
    assert url.startswith(f"/data/upload/{image_project.pk}/") and url.endswith("cat.png")
    served = browser_for(annotator).get(url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == content
    assert browser_for(outsider).get(url).status_code == 404
    assert Client().get(url).status_code in (302, 401, 403)  # asked to sign in; never the image


@pytest.mark.django_db
def test_zip_of_images_imports_each_image_with_its_size(api, manager, annotator, outsider, image_project):
    archive = zip_bytes({"shots/one.png": png_bytes(10, 20), "two.jpg.png": png_bytes(30, 40, "green"),
                         "__MACOSX/._two.jpg.png": b"resource fork", ".DS_Store": b"junk"})
    response = post_file(api(manager), image_project, "shots.zip", archive)
    assert response.status_code == 201, response.json()
    assert response.json()["task_count"] == 2
    tasks = list(Task.objects.filter(project=image_project).order_by("id"))
    assert [(t.meta["file_name"], t.meta["image_width"], t.meta["image_height"]) for t in tasks] == [
        ("one.png", 10, 20), ("two.jpg.png", 30, 40)]
    for task in tasks:
        assert browser_for(annotator).get(task.data["image"]).status_code == 200
        assert browser_for(outsider).get(task.data["image"]).status_code == 404


# --- bad input: a precise 4xx, and nothing imported -------------------------------------------------------------

BAD_FILES = {
    "malformed json": ("tasks.json", b'[\n  {"text": "a"},\n  {"text": "b",}\n]', 400, ["tasks.json: malformed JSON, line 3 column 16"]),
    "malformed json object": ("task.json", b'{"text": "a"', 400, ["task.json: malformed JSON, line 1 column 13"]),
    "json NaN": ("tasks.json", b'[{"text": "a", "score": NaN}]', 400, ["tasks.json: malformed JSON", "NaN is not a JSON value"]),
    "malformed jsonl": ("tasks.jsonl", b'{"text": "a"}\n\n{"text": b}\n', 400, ["tasks.jsonl: malformed JSON on line 3, column 10"]),
    "jsonl Infinity": ("tasks.jsonl", b'{"text": "a", "n": Infinity}\n', 400, ["line 1", "Infinity is not a JSON value"]),
    "ragged csv": ("tasks.csv", b"text,source\na,web\nb\n", 400, ["tasks.csv: line 3 has 1 fields but the header has 2"]),
    "csv with NUL": ("tasks.csv", b"text\nab\x00c\n", 400, ["tasks.csv: line 2", "NUL character"]),
    "csv missing field": ("tasks.csv", b"body\nhello\n", 400, ['tasks.csv: line 2: task data has no "text" field']),
    "not UTF-8": ("tasks.txt", b"caf\xe9\n", 400, ["tasks.txt: not UTF-8 text"]),
    "empty file": ("tasks.json", b"  \n", 400, ["tasks.json: the file is empty"]),
    "blank lines only": ("tasks.txt", b"\n \n", 400, ["nothing to import"]),
    "deep nesting": ("tasks.json", b'[{"text": "a", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}]", 400, ["nested deeper than 100 levels"]),
    "unsupported extension": ("tasks.xml", b"<tasks/>", 415, ["tasks.xml: unsupported file type"]),
    "no extension": ("tasks", b"[]", 415, ["unsupported file type"]),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name, content, status, fragments", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_task_file_is_refused(api, manager, text_project, name, content, status, fragments):
    assert_refused(post_file(api(manager), text_project, name, content), status, *fragments, project=text_project)


BAD_BODIES = {
    "missing field": ([{"text": "ok"}, {"body": "x"}], ['task 2: task data has no "text" field']),
    "field not a string": ([{"text": 42}], ['task 1: task data "text" must be a string']),
    "not an object": ([{"text": "ok"}, "just text"], ["task 2: a task must be a JSON object, not str"]),
    "prediction label not in config": (
        [{"text": "ok"}, {"text": "fine"}, {"data": {"text": "x"}, "predictions": [{"result": [ANGRY]}]}],
        ["task 3: predictions[0].result[0]: 'Angry' is not a label of sentiment"]),
    "annotation span off the text": (
        [{"data": {"text": "short"}, "annotations": [{"result": [SPAN]}]}], ["task 1: annotations[0].result[0]: span [13, 19)"]),
    "predictions not a list": ([{"data": {"text": "x"}, "predictions": {"result": []}}], ["task 1: predictions must be a list"]),
    "score not a number": ([{"data": {"text": "x"}, "predictions": [{"score": "high", "result": []}]}], ["predictions[0].score must be a number"]),
    "model_version too long": ([{"data": {"text": "x"}, "predictions": [{"model_version": "v" * 201, "result": []}]}], ["at most 200 characters"]),
    "NUL in text": ([{"text": "a\u0000b"}], ["task 1: text holds a NUL character"]),
}


@pytest.mark.django_db
@pytest.mark.parametrize("body, fragments", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_json_body_is_refused_whole(api, manager, text_project, body, fragments):
    assert_refused(post_json(api(manager), text_project, body), 400, *fragments, project=text_project)


@pytest.mark.django_db
@pytest.mark.parametrize("body", [None, [], {}], ids=["no body", "empty list", "empty object"])
def test_empty_body_is_refused(api, manager, text_project, body):
    response = api(manager).post(import_url(text_project), body, format="json")
    assert_refused(response, 400, "Send tasks as a JSON list in the body", project=text_project)


@pytest.mark.django_db
def test_file_over_the_size_limit_is_413(api, manager, text_project, settings):
    settings.LABELER_IMPORT_MAX_BYTES = 100
    response = post_file(api(manager), text_project, "tasks.jsonl", jsonl(*[{"text": "x" * 10}] * 10))
    assert_refused(response, 413, "tasks.jsonl:", "over the 100-byte import limit", project=text_project)


BAD_IMAGES = {
    "text named .png": ("photo.png", b"this is not a picture", 400, ["photo.png: not an image Labeler can read"]),
    "PDF named .jpg": ("scan.jpg", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", 400, ["scan.jpg: not an image"]),
    "decompression bomb": ("bomb.png", png_claiming_size(20000, 20000), 400, ["bomb.png: too many pixels (a decompression bomb)"]),
    "zip slip": ("evil.zip", zip_bytes({"ok.png": png_bytes(), "../evil.png": png_bytes()}), 400, ["evil.zip: entry '../evil.png' points outside the archive"]),
    "absolute zip path": ("abs.zip", zip_bytes({"/abs.png": png_bytes()}), 400, ["entry '/abs.png' points outside the archive"]),
    "drive letter zip path": ("win.zip", zip_bytes({"C:/win.png": png_bytes()}), 400, ["points outside the archive"]),
    "text in zip": ("mixed.zip", zip_bytes({"a.png": png_bytes(), "notes.txt": b"hi"}), 400, ["mixed.zip: notes.txt is not an image"]),
    "non-image in zip": ("fake.zip", zip_bytes({"a.png": png_bytes(), "b.png": b"not a png"}), 400, ["fake.zip/b.png: not an image"]),
    "damaged zip entry": ("broken.zip", zip_with_corrupt_entry(), 400, ["broken.zip/photo.png: the archive entry is damaged"]),
    "not a zip": ("photos.zip", b"PK but not really", 400, ["photos.zip: not a valid ZIP archive"]),
    "empty zip": ("empty.zip", zip_bytes({"__MACOSX/._a.png": b"x"}), 400, ["empty.zip: the archive holds no images"]),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name, content, status, fragments", BAD_IMAGES.values(), ids=BAD_IMAGES.keys())
def test_bad_image_upload_is_refused(api, manager, image_project, name, content, status, fragments):
    assert_refused(post_file(api(manager), image_project, name, content), status, *fragments, project=image_project)


@pytest.mark.django_db
def test_image_over_the_pixel_limit_is_refused(api, manager, image_project, settings):
    settings.LABELER_IMAGE_MAX_PIXELS = 1000
    response = post_file(api(manager), image_project, "big.png", png_bytes(40, 30))
    assert_refused(response, 400, "big.png: 40x30 pixels is over the limit of 1000", project=image_project)


@pytest.mark.django_db
def test_zip_entry_over_the_size_limit_is_413(api, manager, image_project, settings):
    settings.LABELER_IMPORT_MAX_BYTES = 2000
    archive = zip_bytes({"small.png": png_bytes(), "huge.png": png_bytes() + bytes(5000)})
    assert len(archive) < 2000
    response = post_file(api(manager), image_project, "photos.zip", archive)
    assert_refused(response, 413, "entry 'huge.png' unpacks to", "over the 2000-byte limit", project=image_project)


@pytest.mark.django_db
def test_image_into_a_text_project_is_refused(api, manager, text_project):
    response = post_file(api(manager), text_project, "cat.png", png_bytes())
    assert_refused(response, 400, "cat.png: this project's label config has no <Image>", project=text_project)


@pytest.mark.django_db
def test_only_managers_may_import(api, manager, annotator, outsider, text_project):
    body = [{"text": "x"}]
    refused = post_json(api(annotator), text_project, body)
    assert refused.status_code == 403 and "manager" in refused.json()["detail"]
    assert post_json(api(outsider), text_project, body).status_code == 404
    assert post_json(api(None), text_project, body).status_code == 401
    assert api(manager).post("/api/projects/999999/import", body, format="json").status_code == 404
    assert Task.objects.filter(project=text_project).count() == 0
    assert post_json(api(manager), text_project, body).status_code == 201


# --- large imports run as a job on a real worker ---------------------------------------------------------------

def many_tasks(count: int, prefix: str) -> bytes:
    return jsonl(*[{"data": {"text": f"{prefix} {i}"}, "predictions": [{"model_version": "v1", "result": [POSITIVE]}]}
                   for i in range(count)])


@pytest.mark.worker
def test_large_import_is_a_job_the_worker_finishes(worker, api, manager, annotator, outsider, text_project, settings):
    settings.LABELER_IMPORT_SYNC_MAX_TASKS = 10  # read by the request only; the worker just runs the job
    client = api(manager)
    response = post_file(client, text_project, "reviews.jsonl", many_tasks(12, "review"))
    assert response.status_code == 202, response.content
    job = response.json()
    assert response["Location"] == f"/api/jobs/{job['id']}/"
    # The worker may claim the job before the answer is shaped: it is queued or already running, with nothing done.
    assert (job["kind"], job["status"] in ("queued", "running"), job["progress"]) == ("import", True, {"done": 0, "total": 12})
    assert not Task.objects.filter(project=text_project).exists()  # nothing written before the job runs

    assert wait_for_job(job["id"]).status == Job.Status.SUCCEEDED
    finished = client.get(f"/api/jobs/{job['id']}/").json()
    assert finished["status"] == "succeeded" and finished["error"] == ""
    assert finished["progress"] == {"done": 12, "total": 12}
    assert finished["result"] == {"task_count": 12, "annotation_count": 0, "prediction_count": 12}
    assert texts_of(client, text_project) == [f"review {i}" for i in range(12)]
    assert counters(client, text_project)["task_count"] == 12
    assert all(not default_storage.exists(item["path"]) for item in Job.objects.get(pk=job["id"]).params["files"])
    for stranger in (outsider, annotator):
        assert api(stranger).get(f"/api/jobs/{job['id']}/").status_code == 404
        assert api(stranger).post(f"/api/jobs/{job['id']}/cancel/").status_code == 404


@pytest.mark.worker
def test_large_zip_import_stores_images_in_the_job(worker, api, manager, annotator, image_project, settings):
    settings.LABELER_IMPORT_SYNC_MAX_TASKS = 10
    archive = zip_bytes({f"img{i:02}.png": png_bytes(8 + i, 6) for i in range(11)})
    response = post_file(api(manager), image_project, "images.zip", archive)
    assert response.status_code == 202
    assert wait_for_job(response.json()["id"]).result["task_count"] == 11
    tasks = list(Task.objects.filter(project=image_project).order_by("id"))
    assert [task.meta["image_width"] for task in tasks] == [8 + i for i in range(11)]
    assert browser_for(annotator).get(tasks[-1].data["image"]).status_code == 200


@pytest.mark.worker
def test_cancelled_queued_job_imports_nothing(worker, api, manager, text_project, settings):
    settings.LABELER_IMPORT_SYNC_MAX_TASKS = 10
    client = api(manager)
    worker.stop()  # so the job stays queued until we cancel it
    try:
        queued = post_file(client, text_project, "first.jsonl", many_tasks(12, "cancelled")).json()
        cancelled = client.post(f"/api/jobs/{queued['id']}/cancel/")
        assert cancelled.status_code == 200
        assert (cancelled.json()["status"], cancelled.json()["cancel_requested"]) == ("cancelled", True)
    finally:
        worker.start()
    # The worker takes messages in order: once a later job has run, the cancelled one has been seen and skipped.
    later = post_file(client, text_project, "second.jsonl", many_tasks(11, "kept")).json()
    assert wait_for_job(later["id"]).status == Job.Status.SUCCEEDED
    cancelled_job = Job.objects.get(pk=queued["id"])
    assert cancelled_job.status == Job.Status.CANCELLED
    assert not default_storage.exists(cancelled_job.params["files"][0]["path"])  # its staged upload is gone too
    assert texts_of(client, text_project) == [f"kept {i}" for i in range(11)]
    assert counters(client, text_project)["task_count"] == 11


@pytest.mark.django_db
def test_staged_file_that_turns_bad_fails_the_job_and_imports_nothing(api, manager, text_project, settings):
    # Plain `db`: on_commit never fires, so no worker takes the job; its body runs here instead.
    settings.LABELER_IMPORT_SYNC_MAX_TASKS = 10
    client = api(manager)
    job_id = post_file(client, text_project, "reviews.jsonl", many_tasks(12, "review")).json()["id"]
    staged = Job.objects.get(pk=job_id).params["files"][0]["path"]
    with default_storage.open(staged, "wb") as corrupted:
        corrupted.write(many_tasks(6, "review") + b'{"data": {"text": oops}}\n')

    run_import_job(job_id)

    job = client.get(f"/api/jobs/{job_id}/").json()
    assert job["status"] == "failed"
    assert "reviews.jsonl: malformed JSON on line 7, column 19" in job["error"]
    assert not Task.objects.filter(project=text_project).exists()
    assert counters(client, text_project)["task_count"] == 0
    assert not default_storage.exists(staged)
