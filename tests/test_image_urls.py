"""Image URLs in tasks: only the project's own uploads and configured prefixes; the rest is a 400 on import (JSON,
JSONL, CSV), on PATCH /api/tasks/{id}/ and in the admin, naming the task and the field."""
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.imports.image_urls import ImageUrlPolicy
from projects.label_config import parse_label_config
from projects.models import Task

REFUSED_URLS = [
    "javascript:alert(document.cookie)", "JavaScript:alert(1)", "file:///etc/passwd", "data:image/png;base64,iVBORw0KGgo=",
    "http://evil.example.net/a.png", "https://example.com.evil.net/a.png", "https://example.com@evil.net/a.png",
    "//evil.example.net/a.png", "http://example.com/a.png", "https://images.example.com/elsewhere/a.png",
    "https://images.example.com/photos/../secret/a.png", "https://images.example.com/photos/%2e%2e/secret/a.png",
    "/data/upload/999999/a.png", " https://example.com/a.png", "/admin/", "",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", REFUSED_URLS)
def test_an_image_url_outside_the_projects_storage_and_prefixes_is_refused(api, manager, image_project, url):
    body = [{"image": f"/data/upload/{image_project.pk}/fine.png"}, {"image": url}]
    response = api(manager).post(f"/api/projects/{image_project.pk}/import", body, format="json")
    assert response.status_code == 400, url
    assert 'task 2: "image" names' in response.json()["detail"]
    assert not Task.objects.filter(project=image_project).exists()


@pytest.mark.django_db
def test_own_uploads_and_configured_prefixes_import(api, manager, image_project):
    # The suite lists https://example.com/ and https://images.example.com/photos/ (labeler/pytest_plugin.py).
    urls = [f"/data/upload/{image_project.pk}/a.png", "https://example.com/any/b.jpg",
            "https://images.example.com/photos/street%20scene.jpg", "HTTPS://Example.com/c.png"]
    response = api(manager).post(f"/api/projects/{image_project.pk}/import", [{"image": url} for url in urls], format="json")
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_jsonl_and_csv_imports_name_the_line(api, manager, image_project):
    client = api(manager)
    url = f"/api/projects/{image_project.pk}/import"
    jsonl = SimpleUploadedFile("t.jsonl", json.dumps({"data": {"image": "file:///etc/passwd"}}).encode())
    refused = client.post(url, {"file": jsonl}, format="multipart")
    assert refused.status_code == 400 and 't.jsonl: line 1: "image" names' in refused.json()["detail"]
    csv = SimpleUploadedFile("t.csv", b"image\nhttps://example.com/ok.png\njavascript:alert(1)\n")
    refused = client.post(url, {"file": csv}, format="multipart")
    assert refused.status_code == 400 and 't.csv: line 3: "image" names' in refused.json()["detail"]


@pytest.mark.django_db
def test_patching_a_task_to_an_outside_url_is_refused(api, manager, image_project):
    client = api(manager)
    client.post(f"/api/projects/{image_project.pk}/import", [{"image": "https://example.com/a.png"}], format="json")
    task = Task.objects.get(project=image_project)
    response = client.patch(f"/api/tasks/{task.pk}/", {"data": {"image": "javascript:alert(1)"}}, format="json")
    assert response.status_code == 400 and "may not load" in response.json()["data"][0]


@pytest.mark.django_db
def test_the_admin_task_form_refuses_an_outside_url(admin_client, image_project):
    response = admin_client.post("/admin/projects/task/add/", {
        "project": image_project.pk, "data": '{"image": "javascript:alert(1)"}', "meta": "{}", "annotation_count": 0,
        "cancelled_count": 0,
    })
    assert response.status_code == 200  # the form again, with the error
    assert "may not load" in response.content.decode()
    assert not Task.objects.filter(project=image_project).exists()


@pytest.mark.django_db
def test_uploaded_images_get_their_own_project_url(api, manager, image_project):
    from tests.sample_files import png_bytes

    upload = SimpleUploadedFile("cat.png", png_bytes())
    assert api(manager).post(f"/api/projects/{image_project.pk}/import", {"file": upload}, format="multipart").status_code == 201
    assert Task.objects.get(project=image_project).data["image"].startswith(f"/data/upload/{image_project.pk}/")


def test_text_fields_are_not_urls_and_are_never_checked():
    config = parse_label_config('<View><Text name="t" value="$text"/><TextArea name="n" toName="t"/></View>')
    ImageUrlPolicy(project_id=1).check(config, {"text": "javascript:alert(1) is just text here"})


def test_without_prefixes_only_own_uploads_pass():
    policy = ImageUrlPolicy(project_id=7)
    assert policy.allows("/data/upload/7/a.png")
    assert not policy.allows("/data/upload/7/sub/a.png") and not policy.allows("/data/upload/7/")
    assert not policy.allows("https://example.com/a.png")
