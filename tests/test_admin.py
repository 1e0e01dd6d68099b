"""The project managers' Django admin: their projects with counts, label config checks, file import, row lists."""
import html
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from projects.models import Project, ProjectMember, Task
from tests.api_helpers import counts_in_rows, import_tasks, import_texts, sentiment, submit
from tests.conftest import IMAGE_CONFIG, TEST_PASSWORD, TEXT_CONFIG
from projects import jobs
from projects.models import Job

NO_MEMBER_FORMS = {"members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0", "members-MIN_NUM_FORMS": "0", "members-MAX_NUM_FORMS": "1000"}


PROJECT_FORM_DEFAULTS = {
    "overlap": "1", "lease_minutes": "15", "queue_order": "task_order", "aggregation_method": "auto",
    "agreement_threshold": "0.6", "max_overlap": "5", "blind": "on", "gold_share": "0", "review_sample_rate": "0",
    "iou_threshold": "0.5", "box_fusion": "median",
}


def project_form(**fields) -> dict:
    return {"title": "Faces", "label_config": IMAGE_CONFIG, **PROJECT_FORM_DEFAULTS, "description": "", "instructions": "", **NO_MEMBER_FORMS, **fields}


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def test_a_staff_manager_logs_in_and_sees_their_project_with_counts(staff_manager, annotator, text_project):
    first, _, _ = import_texts(text_project, "Great food", "Slow service", "Nice view")
    submit(annotator, first)
    client = Client()

    login = client.post("/admin/login/", {"username": "manager", "password": TEST_PASSWORD, "next": "/admin/"})
    response = client.get("/admin/projects/project/")

    assert (login.status_code, login["Location"]) == (302, "/admin/")
    assert response.status_code == 200
    page = page_text(response)
    assert "Reviews" in page
    assert '<td class="field-task_count">3</td>' in page
    assert '<td class="field-finished_task_count">1</td>' in page
    assert '<td class="field-progress">33%</td>' in page
    assert '<td class="field-annotation_count">1</td>' in page


def test_a_manager_sees_only_the_projects_they_manage(admin_client, text_project, other_managers_project):
    listed = page_text(admin_client.get("/admin/projects/project/"))
    elsewhere = admin_client.get(f"/admin/projects/project/{other_managers_project.pk}/change/", follow=True)

    assert "Reviews" in listed and "Streets" not in listed
    assert "doesn’t exist. Perhaps it was deleted?" in page_text(elsewhere)


def test_a_bad_label_config_shows_an_error_naming_the_tag(admin_client):
    config = '<View><Image name="image" value="$image"/><Polygon name="outline" toName="image"/></View>'

    response = admin_client.post("/admin/projects/project/add/", project_form(label_config=config))

    assert response.status_code == 200
    assert "<Polygon> is not supported in label_config" in page_text(response)
    assert not Project.objects.filter(title="Faces").exists()


def test_changing_to_a_bad_label_config_keeps_the_old_one(admin_client, text_project):
    config = TEXT_CONFIG.replace("<Labels ", "<Taxonomy ").replace("</Labels>", "</Taxonomy>")

    response = admin_client.post(f"/admin/projects/project/{text_project.pk}/change/", project_form(title="Reviews", label_config=config))

    assert response.status_code == 200
    assert "<Taxonomy> is not supported in label_config" in page_text(response)
    text_project.refresh_from_db()
    assert text_project.label_config == TEXT_CONFIG


def test_a_project_added_in_the_admin_is_managed_by_its_creator(admin_client, staff_manager):
    response = admin_client.post("/admin/projects/project/add/", project_form())

    assert response.status_code == 302
    project = Project.objects.get(title="Faces")
    assert project.created_by == staff_manager
    assert ProjectMember.objects.get(project=project).role == "manager"


def test_changing_overlap_in_the_admin_re_derives_finished_tasks(admin_client, annotator, text_project):
    first, _ = import_texts(text_project, "Great food", "Slow service")
    submit(annotator, first)

    admin_client.post(f"/admin/projects/project/{text_project.pk}/change/", project_form(title="Reviews", label_config=TEXT_CONFIG, overlap="2"))

    text_project.refresh_from_db()
    assert (text_project.overlap, text_project.finished_task_count) == (2, 0)


def test_the_import_page_imports_a_json_file_and_the_counts_move(admin_client, text_project):
    tasks = b'[{"text": "Great food"}, {"data": {"text": "Cold soup"}, "annotations": [{"result": []}]}]'
    upload = SimpleUploadedFile("reviews.json", tasks, content_type="application/json")
    url = f"/admin/projects/project/{text_project.pk}/import/"

    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"file": upload}, follow=True)

    assert response.status_code == 200
    assert "Imported 2 tasks, 1 annotations, 0 predictions." in page_text(response)
    text_project.refresh_from_db()
    assert (text_project.task_count, text_project.finished_task_count, text_project.annotation_count) == (2, 1, 1)


def test_a_bad_import_file_shows_why_and_imports_nothing(admin_client, text_project):
    upload = SimpleUploadedFile("reviews.json", b'[{"title": "no text field"}]', content_type="application/json")

    response = admin_client.post(f"/admin/projects/project/{text_project.pk}/import/", {"file": upload})

    assert response.status_code == 200
    assert 'task data has no "text" field' in page_text(response)
    assert not Task.objects.exists()


def test_the_import_page_of_someone_elses_project_is_refused(admin_client, other_managers_project):
    response = admin_client.get(f"/admin/projects/project/{other_managers_project.pk}/import/", follow=True)

    assert "No such project among those you manage." in page_text(response)


@pytest.fixture
def rows_in_two_projects(annotator, text_project, other_managers_project):
    """A task, an annotation and a prediction in the manager's project and in someone else's."""
    prediction = {"model_version": "ours-v1", "result": [sentiment("Positive")]}
    (task,) = import_tasks(text_project, [{"data": {"text": "Great food"}, "predictions": [prediction]}])
    submit(annotator, task)
    theirs = {"model_version": "theirs-v1", "result": []}
    import_tasks(other_managers_project, [{"data": {"image": "https://example.com/street.jpg"}, "predictions": [theirs]}])
    return task


@pytest.mark.parametrize("model", ["task", "annotation", "prediction", "projectmember"])
def test_row_lists_load_and_show_only_the_managed_projects_rows(admin_client, rows_in_two_projects, model):
    response = admin_client.get(f"/admin/projects/{model}/")

    assert response.status_code == 200
    page = page_text(response)
    assert "Reviews" in page and "Streets" not in page


def test_a_task_and_an_annotation_open_in_the_admin(admin_client, rows_in_two_projects):
    task = rows_in_two_projects
    annotation = task.annotations.get()

    assert admin_client.get(f"/admin/projects/task/{task.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/projects/annotation/{annotation.pk}/change/").status_code == 200
    assert "ours-v1" in page_text(admin_client.get("/admin/projects/prediction/"))


def test_editing_an_annotation_in_the_admin_checks_the_result_and_bumps_the_version(admin_client, rows_in_two_projects):
    annotation = rows_in_two_projects.annotations.get()
    url = f"/admin/projects/annotation/{annotation.pk}/change/"
    form = {"lead_time": "", "cancel_reason": ""}

    refused = admin_client.post(url, {**form, "result": json.dumps([sentiment("Ecstatic")])})
    saved = admin_client.post(url, {**form, "result": json.dumps([sentiment("Neutral")])})

    assert "'Ecstatic' is not a label of sentiment" in page_text(refused)
    assert saved.status_code == 302
    annotation.refresh_from_db()
    assert (annotation.result, annotation.version) == ([sentiment("Neutral")], 2)


def test_the_recount_action_repairs_drifted_counters(admin_client, annotator, text_project):
    first, _ = import_texts(text_project, "Great food", "Slow service")
    submit(annotator, first)
    Project.objects.filter(pk=text_project.pk).update(task_count=40, finished_task_count=7, annotation_count=9)

    response = admin_client.post(
        "/admin/projects/project/", {"action": "recount", "_selected_action": [text_project.pk]}, follow=True
    )

    assert "Recounted 1 project(s)." in page_text(response)
    text_project.refresh_from_db()
    assert (text_project.task_count, text_project.finished_task_count, text_project.annotation_count) == (2, 1, 1)


def test_the_job_list_shows_only_the_managed_projects_jobs(admin_client, staff_manager, text_project, other_managers_project):
    ours = jobs.create_job(kind=Job.Kind.IMPORT, project=text_project, created_by=staff_manager, total=4)
    theirs = jobs.create_job(kind=Job.Kind.EXPORT, project=other_managers_project, created_by=other_managers_project.created_by)

    response = admin_client.get("/admin/projects/job/")

    assert response.status_code == 200
    page = page_text(response)
    assert f"/admin/projects/job/{ours.pk}/change/" in page and "0 / 4 (0%)" in page
    assert f"/admin/projects/job/{theirs.pk}/change/" not in page


def test_a_manager_cannot_add_themselves_to_someone_elses_project(admin_client, staff_manager, other_managers_project):
    response = admin_client.post(
        "/admin/projects/projectmember/add/", {"project": other_managers_project.pk, "user": staff_manager.pk, "role": "manager"}
    )

    assert response.status_code == 200
    assert "Select a valid choice." in page_text(response)
    assert not ProjectMember.objects.filter(project=other_managers_project, user=staff_manager).exists()


def task_form(project: Project, data: str) -> dict:
    inline_forms = {f"{prefix}-{name}": "0" for prefix in ("annotations", "predictions") for name in ("TOTAL_FORMS", "INITIAL_FORMS")}
    return {"project": project.pk, "data": data, "meta": "{}", "gold_result": "", **inline_forms}


def test_a_task_added_in_the_admin_is_counted(admin_client, text_project):
    response = admin_client.post("/admin/projects/task/add/", task_form(text_project, '{"text": "Typed in by hand"}'))

    assert response.status_code == 302
    text_project.refresh_from_db()
    assert text_project.task_count == 1
    assert counts_in_rows(text_project)["task_count"] == 1


def test_a_task_whose_data_misses_the_configs_field_is_refused(admin_client, text_project):
    response = admin_client.post("/admin/projects/task/add/", task_form(text_project, '{"body": "wrong field"}'))

    assert response.status_code == 200
    assert 'task data has no "text" field, which <Text name="text"> needs' in page_text(response)
    assert not Task.objects.exists()


def test_a_task_cannot_be_added_to_someone_elses_project(admin_client, other_managers_project):
    response = admin_client.post("/admin/projects/task/add/", task_form(other_managers_project, '{"image": "https://example.com/a.jpg"}'))

    assert response.status_code == 200
    assert "Select a valid choice." in page_text(response)
    assert not Task.objects.exists()
