"""Snapshots: POST /api/projects/{id}/exports/ makes an export with a Celery job (a real worker process), kept
as a file with its checksum that downloads the same bytes every time; and the admin's export page."""
import hashlib
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from exports import selection
from exports.models import ExportSnapshot
from workers.tasks import run_export_job
from tests.api_helpers import import_texts
from tests.conftest import client_for, wait_for_job
from tests.export_helpers import TEXTS, body_of, label_images, label_texts, unzip
from projects import jobs
from projects.models import Job


def snapshots_url(project) -> str:
    return f"/api/projects/{project.pk}/exports/"


def start(user, project, **body):
    return client_for(user).post(snapshots_url(project), body, format="json")


def download(user, snapshot_id: int):
    return client_for(user).get(f"/api/exports/{snapshot_id}/download")


@pytest.mark.worker
def test_a_snapshot_is_made_by_a_worker_and_downloads_identically_twice(worker, manager, annotator, image_project):
    images = label_images(image_project, annotator)

    started = start(manager, image_project, exportType="COCO", name="detector-run-7", annotations="all")

    assert started.status_code == 202, started.json()
    body = started.json()
    assert (body["name"], body["exportType"], body["job"]["kind"], body["download_url"]) == ("detector-run-7", "COCO", "export", None)
    assert started["Location"] == f"/api/exports/{body['id']}/"
    job = wait_for_job(body["job"]["id"])
    assert job.status == "succeeded", job.error
    detail = client_for(manager).get(body["url"]).json()
    assert detail["status"] == "succeeded"
    assert detail["filters"]["annotations"] == "all"
    assert detail["counts"]["tasks"] == 3 and detail["counts"]["boxes"] == 3 and detail["counts"]["images_included"] == 2
    assert job.progress_done == job.progress_total == 3

    first, second = download(manager, body["id"]), download(manager, body["id"])
    first_bytes, second_bytes = b"".join(first.streaming_content), b"".join(second.streaming_content)
    assert first.status_code == second.status_code == 200
    assert first_bytes == second_bytes
    assert hashlib.sha256(first_bytes).hexdigest() == detail["sha256"] == first["X-Checksum-SHA256"]
    assert len(first_bytes) == detail["size"]
    assert first["Content-Disposition"].startswith(f'attachment; filename="project-{image_project.pk}-coco-')
    coco = json.loads(unzip(first_bytes)["result.json"])
    assert sorted(image["id"] for image in coco["images"]) == sorted(task.pk for task in images)


@pytest.mark.django_db(databases="__all__")
def test_a_snapshot_whose_format_no_longer_fits_fails_with_the_reason(manager, text_project):
    import_texts(text_project, "one")
    snapshot_id = start(manager, text_project, exportType="CONLL2003", tasks="all").json()["id"]
    text_project.label_config = '<View><Text name="text" value="$text"/><TextArea name="note" toName="text"/></View>'
    text_project.save(update_fields=["label_config"])

    run_export_job(ExportSnapshot.objects.get(pk=snapshot_id).job_id)

    detail = client_for(manager).get(f"/api/exports/{snapshot_id}/").json()
    assert (detail["status"], detail["download_url"]) == ("failed", None)
    assert "<Labels>" in detail["job"]["error"]
    assert "<Labels>" in download(manager, snapshot_id).json()["detail"]


@pytest.mark.django_db(databases="__all__")  # the job body writes progress through the `jobs` alias
def test_the_job_body_is_idempotent_and_keeps_the_first_file(manager, annotator, other_annotator, text_project):
    label_texts(text_project, annotator, other_annotator)
    snapshot_id = start(manager, text_project, exportType="JSON").json()["id"]
    snapshot = ExportSnapshot.objects.get(pk=snapshot_id)

    run_export_job(snapshot.job_id)
    snapshot.refresh_from_db()
    kept = (snapshot.file.name, snapshot.sha256)
    # As if the message came again after its worker died (no heartbeat): a live worker's job is not claimed twice.
    Job.objects.filter(pk=snapshot.job_id).update(status=Job.Status.RUNNING, heartbeat_at=None)
    run_export_job(snapshot.job_id)
    snapshot.refresh_from_db()

    assert (snapshot.file.name, snapshot.sha256) == kept
    assert snapshot.job.status == "succeeded"
    assert json.loads(b"".join(download(manager, snapshot_id).streaming_content))[0]["data"] == {"text": TEXTS[0]}


# Committed rows: the job reads its cancel flag through the `jobs` connection, as a worker would.
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_cancelling_a_running_export_job_stops_it_between_chunks(manager, annotator, other_annotator, text_project, monkeypatch):


    label_texts(text_project, annotator, other_annotator)
    monkeypatch.setattr(run_export_job, "delay", lambda job_id: None)  # committed at once: keep a worker off it
    snapshot = ExportSnapshot.objects.get(pk=start(manager, text_project, exportType="JSON").json()["id"])
    monkeypatch.setattr(selection, "CHUNK_SIZE", 1)
    report_progress = jobs.report_progress

    def cancel_after_the_first_chunk(job_id, done, total=None):
        report_progress(job_id, done, total)
        if done == 1:  # through the jobs connection: on PostgreSQL the export's own is a read-only snapshot
            Job.objects.using(jobs.JOB_DB).filter(pk=job_id).update(cancel_requested=True)

    monkeypatch.setattr(jobs, "report_progress", cancel_after_the_first_chunk)
    run_export_job(snapshot.job_id)

    snapshot.refresh_from_db()
    assert (snapshot.job.status, snapshot.job.progress_done, snapshot.job.progress_total) == ("cancelled", 1, 2)
    assert (snapshot.status, snapshot.file.name, snapshot.sha256) == ("cancelled", "", "")
    assert download(manager, snapshot.pk).status_code == 409


def test_a_snapshot_request_must_be_an_object(db, api, manager, text_project):
    response = api(manager).post(snapshots_url(text_project), [{"exportType": "JSON"}], format="json")

    assert response.status_code == 400
    assert "Expected a dictionary" in str(response.json())


@pytest.mark.django_db(databases="__all__")
def test_a_job_whose_snapshot_was_deleted_stops_quietly(manager, text_project):
    import_texts(text_project, "one")
    snapshot = ExportSnapshot.objects.get(pk=start(manager, text_project, exportType="JSON", tasks="all").json()["id"])
    job_id = snapshot.job_id
    snapshot.delete()

    run_export_job(job_id)

    job = Job.objects.get(pk=job_id)
    assert (job.status, job.error) == ("cancelled", "its export snapshot was deleted before it ran")


def test_downloading_a_snapshot_that_is_not_ready_is_a_409(db, manager, text_project):
    import_texts(text_project, "one")
    snapshot_id = start(manager, text_project, exportType="JSON", tasks="all").json()["id"]

    response = download(manager, snapshot_id)

    assert response.status_code == 409
    assert response.json()["detail"] == f"Export {snapshot_id} is not ready: its job is queued."


def test_snapshots_are_listed_per_project_newest_first(db, manager, text_project):
    first = start(manager, text_project, exportType="JSON").json()["id"]
    second = start(manager, text_project, exportType="CSV", name="for pandas").json()["id"]

    listed = client_for(manager).get(snapshots_url(text_project)).json()["results"]

    today = timezone.now().date().isoformat()
    assert [(item["id"], item["name"], item["file_name"]) for item in listed] == [
        (second, "for pandas", f"project-{text_project.pk}-csv-{today}.csv"),
        (first, f"project-{text_project.pk}-json-{today}", f"project-{text_project.pk}-json-{today}.json"),  # named after its file
    ]


def test_snapshot_parameters_are_checked_like_the_download(db, manager, text_project):
    response = start(manager, text_project, exportType="COCO")

    assert response.status_code == 400
    assert "<RectangleLabels>" in response.json()["exportType"][0]
    assert start(manager, text_project, exportType="JSON", min_agreement=3).status_code == 400
    assert not ExportSnapshot.objects.exists() and not Job.objects.exists()


def test_who_may_see_snapshots(db, api, manager, annotator, outsider, text_project):
    snapshot_id = start(manager, text_project, exportType="JSON").json()["id"]

    assert api(outsider).get(f"/api/exports/{snapshot_id}/").status_code == 404
    assert download(outsider, snapshot_id).status_code == 404
    assert api(outsider).get(snapshots_url(text_project)).status_code == 404
    assert api(annotator).get(f"/api/exports/{snapshot_id}/").status_code == 403
    assert start(annotator, text_project, exportType="JSON").status_code == 403
    text_project.annotators_can_export = True
    text_project.blind = False
    text_project.save(update_fields=["annotators_can_export", "blind"])
    assert api(annotator).get(f"/api/exports/{snapshot_id}/").status_code == 200
    assert start(annotator, text_project, exportType="JSON").status_code == 202


def test_the_schema_documents_the_export_endpoints(db):
    schema = client_for(None).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]

    assert {"exportType", "annotations", "tasks", "min_agreement", "annotator", "annotated_after", "annotated_before"} <= {
        parameter["name"] for parameter in paths["/api/projects/{id}/export"]["get"]["parameters"]}
    assert {"get", "post"} <= set(paths["/api/projects/{id}/exports/"])
    assert "get" in paths["/api/exports/{id}/"] and "get" in paths["/api/exports/{id}/download"]


# The admin

@pytest.fixture
def admin_client(manager) -> Client:
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    manager.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["projects", "workers", "exports"]))
    client = Client()
    client.force_login(manager)
    return client


@pytest.mark.django_db(databases="__all__")
def test_the_admin_offers_the_same_exports_and_lists_snapshots(admin_client, manager, annotator, other_annotator, text_project):
    label_texts(text_project, annotator, other_annotator)
    page = admin_client.get(f"/admin/exports/exportsnapshot/project/{text_project.pk}/")
    assert page.status_code == 200 and b"Make a snapshot" in page.content
    assert f"/admin/exports/exportsnapshot/project/{text_project.pk}/" in admin_client.get(f"/admin/projects/project/{text_project.pk}/change/").content.decode()

    form = {"exportType": "CSV", "annotations": "final", "tasks": "labeled", "download": "1"}
    downloaded = admin_client.post(f"/admin/exports/exportsnapshot/project/{text_project.pk}/", form)
    made = admin_client.post(f"/admin/exports/exportsnapshot/project/{text_project.pk}/", {**form, "snapshot": "1", "name": "weekly"})
    refused = admin_client.post(f"/admin/exports/exportsnapshot/project/{text_project.pk}/", {**form, "exportType": "YOLO"})

    assert body_of(downloaded).startswith(b"id,text,sentiment,entities,origin")
    snapshot = ExportSnapshot.objects.get(name="weekly")
    assert made.status_code == 302 and made["Location"].endswith(f"/exports/exportsnapshot/{snapshot.pk}/change/")
    assert refused.status_code == 200 and "&lt;RectangleLabels&gt;" in refused.content.decode()
    run_export_job(snapshot.job_id)
    listing = admin_client.get("/admin/exports/exportsnapshot/").content.decode()
    assert "weekly" in listing and f"/admin/exports/exportsnapshot/{snapshot.pk}/download/" in listing
    assert admin_client.get(f"/admin/exports/exportsnapshot/{snapshot.pk}/download/").status_code == 200


@pytest.mark.django_db(databases="__all__")
def test_deleting_a_snapshot_in_the_admin_deletes_its_file(admin_client, manager, text_project, django_capture_on_commit_callbacks):
    import_texts(text_project, "one")
    snapshot = ExportSnapshot.objects.get(pk=start(manager, text_project, exportType="JSON", tasks="all").json()["id"])
    run_export_job(snapshot.job_id)
    snapshot.refresh_from_db()
    assert default_storage.exists(snapshot.file.name)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/exports/exportsnapshot/{snapshot.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not ExportSnapshot.objects.filter(pk=snapshot.pk).exists()
    assert not default_storage.exists(snapshot.file.name)
