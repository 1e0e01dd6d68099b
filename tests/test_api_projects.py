"""Projects through the REST API: who sees which, creating and changing them, their counters, their members."""
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission

from projects import services
from projects.models import Project, ProjectMember, Task
from tests.api_helpers import counts_in_rows, counts_shown, import_tasks, import_texts, sentiment, submit
from tests.conftest import IMAGE_CONFIG, TEXT_CONFIG

POLYGON_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <PolygonLabels name="outline" toName="image"><Label value="Car"/></PolygonLabels>
</View>"""


def titles(response) -> list[str]:
    return [project["title"] for project in response.json()["results"]]


# Listing


def test_manager_and_annotator_see_their_project_with_their_role(api, manager, annotator, text_project, other_managers_project):
    as_manager = api(manager).get("/api/projects/").json()["results"]
    as_annotator = api(annotator).get("/api/projects/").json()["results"]

    assert [(project["title"], project["role"]) for project in as_manager] == [("Reviews", "manager")]
    assert [(project["title"], project["role"]) for project in as_annotator] == [("Reviews", "annotator")]


def test_outsider_sees_no_projects(api, outsider, text_project):
    response = api(outsider).get("/api/projects/")

    assert response.status_code == 200
    assert response.json()["count"] == 0 and titles(response) == []


def test_superuser_sees_every_project(api, superuser, text_project, other_managers_project):
    assert titles(api(superuser).get("/api/projects/")) == ["Streets", "Reviews"]


def test_staff_status_alone_shows_no_one_elses_project(api, staff, text_project, other_managers_project):
    """Managers are staff so they can use the admin; that must not open every project to them in the API."""
    assert titles(api(staff).get("/api/projects/")) == []
    assert api(staff).get(f"/api/projects/{text_project.pk}/").status_code == 404


# Creating


def test_staff_creates_a_project_with_overlap_1_and_manages_it(api, staff):
    response = api(staff).post("/api/projects/", {"title": "Faces", "label_config": IMAGE_CONFIG})

    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["overlap"], body["role"], body["task_count"]) == ("Faces", 1, "manager", 0)
    assert ProjectMember.objects.get(project_id=body["id"]).user == staff


def test_a_user_allowed_to_add_projects_creates_one_and_becomes_its_manager(api, make_user):
    creator = make_user("lead")
    creator.user_permissions.add(Permission.objects.get(codename="add_project"))

    response = api(creator).post("/api/projects/", {"title": "Faces", "label_config": IMAGE_CONFIG, "overlap": 3})

    assert response.status_code == 201
    assert response.json()["overlap"] == 3
    (member,) = api(creator).get(f"/api/projects/{response.json()['id']}/members/").json()
    assert (member["user"], member["username"], member["role"]) == (creator.pk, "lead", "manager")


@pytest.mark.parametrize("label_config", [IMAGE_CONFIG, "not even xml"])
def test_a_plain_user_may_not_create_projects_whatever_they_send(api, annotator, label_config):
    response = api(annotator).post("/api/projects/", {"title": "Mine", "label_config": label_config})

    assert response.status_code == 403
    assert response.json() == {"detail": "Only staff or users allowed to add projects may create one."}
    assert not Project.objects.exists()


def test_a_label_config_with_an_unsupported_tag_gets_400_naming_the_tag(api, staff):
    response = api(staff).post("/api/projects/", {"title": "Cars", "label_config": POLYGON_CONFIG})

    assert response.status_code == 400
    assert "<PolygonLabels> is not supported" in response.json()["label_config"][0]
    assert not Project.objects.exists()


def test_a_control_pointing_at_nothing_gets_400_naming_the_control(api, staff):
    config = '<View><Text name="text" value="$text"/><Choices name="mood" toName="txt"><Choice value="Up"/></Choices></View>'

    response = api(staff).post("/api/projects/", {"title": "Moods", "label_config": config})

    assert response.status_code == 400
    assert response.json() == {"label_config": ['<Choices name="mood"> toName="txt" names no <Image>, <List> or <Text>']}


@pytest.mark.parametrize(
    ("overlap", "complaint"),
    [(0, "Ensure this value is greater than or equal to 1."), (101, "Ensure this value is less than or equal to 100.")],
)
def test_overlap_outside_1_to_100_gets_400(api, staff, overlap, complaint):
    response = api(staff).post("/api/projects/", {"title": "Faces", "label_config": IMAGE_CONFIG, "overlap": overlap})

    assert response.status_code == 400
    assert response.json() == {"overlap": [complaint]}


def test_a_project_without_title_gets_400(api, staff):
    response = api(staff).post("/api/projects/", {"label_config": IMAGE_CONFIG})

    assert response.status_code == 400
    assert response.json() == {"title": ["This field is required."]}


# Detail and counters


def test_detail_counts_match_the_rows_after_imports_and_annotations(api, manager, annotator, text_project):
    import_texts(text_project, "Great food", "Slow service", "Nice view")
    first, second, _ = Task.objects.filter(project=text_project)
    assert submit(annotator, first).status_code == 201
    assert submit(annotator, second, was_cancelled=True).status_code == 201

    shown = counts_shown(annotator, text_project)

    assert shown == {"task_count": 3, "finished_task_count": 1, "annotation_count": 1}
    assert shown == counts_in_rows(text_project)


def test_imported_annotations_count_as_finished_work(manager, text_project):
    import_texts(text_project, "Great food")

    import_tasks(text_project, [{"data": {"text": "Cold soup"}, "annotations": [{"result": [sentiment("Negative")]}]}])

    assert counts_shown(manager, text_project) == {"task_count": 2, "finished_task_count": 1, "annotation_count": 1}
    assert counts_shown(manager, text_project) == counts_in_rows(text_project)


def test_outsider_gets_404_for_a_project_they_are_not_in(api, outsider, text_project):
    response = api(outsider).get(f"/api/projects/{text_project.pk}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "No project with that id among yours."}


# Changing and deleting


def test_manager_renames_the_project(api, manager, text_project):
    response = api(manager).patch(f"/api/projects/{text_project.pk}/", {"title": "Restaurant reviews"})

    assert response.status_code == 200
    assert response.json()["title"] == "Restaurant reviews"
    assert api(manager).get(f"/api/projects/{text_project.pk}/").json()["title"] == "Restaurant reviews"


def test_annotator_may_not_change_the_project(api, annotator, text_project):
    response = api(annotator).patch(f"/api/projects/{text_project.pk}/", {"title": "Mine now"})

    assert response.status_code == 403
    assert response.json() == {"detail": f"This needs the manager role in project {text_project.pk}; you are annotator."}
    text_project.refresh_from_db()
    assert text_project.title == "Reviews"


def test_outsider_changing_the_project_gets_404(api, outsider, text_project):
    assert api(outsider).patch(f"/api/projects/{text_project.pk}/", {"title": "Mine now"}).status_code == 404


def test_changing_to_a_bad_label_config_gets_400_and_keeps_the_old_one(api, manager, text_project):
    response = api(manager).patch(f"/api/projects/{text_project.pk}/", {"label_config": POLYGON_CONFIG})

    assert response.status_code == 400
    assert "<PolygonLabels>" in response.json()["label_config"][0]
    text_project.refresh_from_db()
    assert text_project.label_config == TEXT_CONFIG


def test_raising_and_lowering_overlap_re_derives_finished_tasks(api, manager, annotator, other_annotator, text_project):
    first, second = import_texts(text_project, "Great food", "Slow service")
    submit(annotator, first)
    submit(annotator, second)
    submit(other_annotator, second)

    raised = api(manager).patch(f"/api/projects/{text_project.pk}/", {"overlap": 2})

    assert raised.status_code == 200
    assert (raised.json()["overlap"], raised.json()["finished_task_count"]) == (2, 1)
    assert counts_shown(manager, text_project) == counts_in_rows(text_project)
    unfinished = api(manager).get(f"/api/projects/{text_project.pk}/tasks/?is_finished=false").json()["results"]
    assert [task["id"] for task in unfinished] == [first.pk]

    lowered = api(manager).patch(f"/api/projects/{text_project.pk}/", {"overlap": 1})

    assert lowered.json()["finished_task_count"] == 2
    assert counts_shown(manager, text_project) == counts_in_rows(text_project)


def test_annotator_may_not_delete_the_project(api, annotator, text_project):
    assert api(annotator).delete(f"/api/projects/{text_project.pk}/").status_code == 403
    assert Project.objects.filter(pk=text_project.pk).exists()


def test_manager_deletes_the_project_with_its_tasks(api, manager, text_project):
    import_texts(text_project, "Great food")

    response = api(manager).delete(f"/api/projects/{text_project.pk}/")

    assert response.status_code == 204
    assert api(manager).get(f"/api/projects/{text_project.pk}/").status_code == 404
    assert not Task.objects.exists()


# Members


def members_of(api, manager, project) -> dict[str, str]:
    response = api(manager).get(f"/api/projects/{project.pk}/members/")
    assert response.status_code == 200
    return {member["username"]: member["role"] for member in response.json()}


def test_manager_lists_members_with_their_roles(api, manager, text_project):
    assert members_of(api, manager, text_project) == {"manager": "manager", "annotator": "annotator", "other_annotator": "annotator"}


def test_manager_adds_a_member_by_username(api, manager, outsider, text_project):
    response = api(manager).post(f"/api/projects/{text_project.pk}/members/", {"username": "outsider", "role": "reviewer"})

    assert response.status_code == 201
    assert (response.json()["user"], response.json()["role"]) == (outsider.pk, "reviewer")
    assert api(outsider).get(f"/api/projects/{text_project.pk}/").json()["role"] == "reviewer"


def test_manager_adds_a_member_by_user_id_as_annotator_by_default(api, manager, outsider, text_project):
    response = api(manager).post(f"/api/projects/{text_project.pk}/members/", {"user": outsider.pk})

    assert response.status_code == 201
    assert members_of(api, manager, text_project)["outsider"] == "annotator"


def test_adding_an_existing_member_changes_their_role(api, manager, annotator, text_project):
    api(manager).post(f"/api/projects/{text_project.pk}/members/", {"username": "annotator", "role": "manager"})

    assert members_of(api, manager, text_project)["annotator"] == "manager"
    assert ProjectMember.objects.filter(project=text_project, user=annotator).count() == 1


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"username": "outsider", "role": "boss"}, {"role": ['"boss" is not a valid choice.']}),
        ({"username": "nobody"}, {"username": ["Object with username=nobody does not exist."]}),
        ({"user": 999999}, {"user": ['Invalid pk "999999" - object does not exist.']}),
        ({"role": "annotator"}, {"user": ["Name the user by id (user) or by username."]}),
    ],
)
def test_a_bad_member_gets_400_saying_what_is_wrong(api, manager, outsider, text_project, body, errors):
    response = api(manager).post(f"/api/projects/{text_project.pk}/members/", body)

    assert response.status_code == 400
    assert response.json() == errors
    assert "outsider" not in members_of(api, manager, text_project)


def test_annotator_may_not_see_or_change_members(api, annotator, outsider, text_project):
    url = f"/api/projects/{text_project.pk}/members/"

    assert api(annotator).get(url).status_code == 403
    assert api(annotator).post(url, {"username": "outsider"}).status_code == 403
    assert api(annotator).delete(f"{url}{annotator.pk}/").status_code == 403
    assert ProjectMember.objects.filter(project=text_project, user=annotator).exists()


def test_outsider_gets_404_for_members(api, outsider, text_project):
    url = f"/api/projects/{text_project.pk}/members/"

    assert api(outsider).get(url).status_code == 404
    assert api(outsider).post(url, {"username": "outsider", "role": "manager"}).status_code == 404


def test_a_removed_member_loses_access(api, manager, annotator, text_project):
    (task,) = import_texts(text_project, "Great food")

    response = api(manager).delete(f"/api/projects/{text_project.pk}/members/{annotator.pk}/")

    assert response.status_code == 204
    assert api(annotator).get(f"/api/projects/{text_project.pk}/").status_code == 404
    assert api(annotator).get(f"/api/tasks/{task.pk}/").status_code == 404
    assert submit(annotator, task).status_code == 404
    assert "annotator" not in members_of(api, manager, text_project)


def test_removing_a_non_member_gets_404_saying_so(api, manager, outsider, text_project):
    response = api(manager).delete(f"/api/projects/{text_project.pk}/members/{outsider.pk}/")

    assert response.status_code == 404
    assert response.json() == {"detail": f"User {outsider.pk} is not a member of project {text_project.pk}."}


def test_the_last_manager_cannot_leave_or_step_down(api, manager, text_project):
    url = f"/api/projects/{text_project.pk}/members/"

    removed = api(manager).delete(f"{url}{manager.pk}/")
    demoted = api(manager).post(url, {"username": "manager", "role": "annotator"})

    for response in (removed, demoted):
        assert response.status_code == 400
        assert response.json() == {"detail": f"Project {text_project.pk} needs at least one manager; add another manager first."}
    assert members_of(api, manager, text_project)["manager"] == "manager"


def test_a_manager_may_leave_when_another_manager_remains(api, manager, annotator, text_project):
    api(manager).post(f"/api/projects/{text_project.pk}/members/", {"username": "annotator", "role": "manager"})

    response = api(manager).delete(f"/api/projects/{text_project.pk}/members/{manager.pk}/")

    assert response.status_code == 204
    assert members_of(api, annotator, text_project) == {"annotator": "manager", "other_annotator": "annotator"}


# Every setting on create, and the same rules for every writer

SETTINGS = {
    "description": "Product reviews", "instructions": "Pick one sentiment.", "overlap": 3, "lease_minutes": 30,
    "queue_order": "uncertainty", "annotators_can_export": True, "aggregation_method": "majority",
    "agreement_threshold": 0.8, "adaptive_overlap": True, "max_overlap": 4, "blind": False, "gold_share": 0.2,
    "review_sample_rate": 0.1, "iou_threshold": 0.7, "box_fusion": "mean",
}
BAD_SETTINGS = [
    ("overlap", 0), ("overlap", 101), ("lease_minutes", 0), ("gold_share", 7), ("agreement_threshold", 3.5),
    ("review_sample_rate", -2), ("iou_threshold", 9), ("max_overlap", 0), ("queue_order", "random"),
    ("aggregation_method", "vote"), ("box_fusion", "max"),
]


def stored_settings(project_id: int) -> dict:
    project = Project.objects.get(pk=project_id)
    return {name: getattr(project, name) for name in SETTINGS}


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_setting_is_accepted_on_create_as_json(api, staff, name):
    response = api(staff).post("/api/projects/", {"title": "Faces", "label_config": IMAGE_CONFIG, name: SETTINGS[name]}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()[name] == SETTINGS[name]
    assert stored_settings(response.json()["id"])[name] == SETTINGS[name]


def test_all_settings_at_once_on_create_are_stored_and_shown(api, staff):
    response = api(staff).post("/api/projects/", {"title": "Faces", "label_config": IMAGE_CONFIG, **SETTINGS}, format="json")

    assert response.status_code == 201, response.json()
    assert {name: response.json()[name] for name in SETTINGS} == SETTINGS == stored_settings(response.json()["id"])


@pytest.mark.parametrize("body_format", ["multipart", "form"])
def test_a_form_or_multipart_create_stores_every_setting_or_is_refused_cleanly(api, staff, body_format):
    """Form bodies may later be refused (415) in favour of JSON; either way never a 500, never a setting lost."""
    fields = {"title": "Faces", "label_config": IMAGE_CONFIG, **{name: str(value).lower() if isinstance(value, bool) else value for name, value in SETTINGS.items()}}
    client = api(staff)
    if body_format == "form":
        response = client.post("/api/projects/", urlencode(fields), content_type="application/x-www-form-urlencoded")
    else:
        response = client.post("/api/projects/", fields, format="multipart")

    assert response.status_code in (201, 415), response.content
    if response.status_code == 201:
        assert stored_settings(response.json()["id"]) == SETTINGS
    else:
        assert "detail" in response.json() and not Project.objects.exists()


def test_a_form_create_that_leaves_out_a_checkbox_keeps_its_default(api, staff):
    """A missing `blind` in a form body must not read as false: the project would show everyone's work."""
    response = api(staff).post("/api/projects/", {"title": "Faces", "label_config": IMAGE_CONFIG}, format="multipart")

    assert response.status_code in (201, 415), response.content
    if response.status_code == 201:
        project = Project.objects.get(pk=response.json()["id"])
        assert (project.blind, project.adaptive_overlap, project.annotators_can_export) == (True, False, False)


@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS)
def test_a_bad_setting_on_create_gets_400_naming_it_and_creates_nothing(api, staff, name, value):
    response = api(staff).post("/api/projects/", {"title": "Faces", "label_config": IMAGE_CONFIG, name: value}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [name]
    assert not Project.objects.exists()


@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS)
def test_a_bad_setting_on_patch_gets_400_naming_it_and_changes_nothing(api, manager, text_project, name, value):
    before = stored_settings(text_project.pk)

    response = api(manager).patch(f"/api/projects/{text_project.pk}/", {name: value}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [name]
    assert stored_settings(text_project.pk) == before


def test_adaptive_overlap_below_overlap_is_refused_on_create_naming_max_overlap(api, staff):
    body = {"title": "Faces", "label_config": IMAGE_CONFIG, "overlap": 3, "adaptive_overlap": True, "max_overlap": 2}

    response = api(staff).post("/api/projects/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"max_overlap": ["must be at least overlap (3) when adaptive overlap is on"]}


def test_turning_adaptive_overlap_on_checks_max_overlap_against_the_stored_overlap(api, manager, text_project):
    client = api(manager)
    assert client.patch(f"/api/projects/{text_project.pk}/", {"overlap": 6}, format="json").status_code == 200

    response = client.patch(f"/api/projects/{text_project.pk}/", {"adaptive_overlap": True}, format="json")

    assert response.status_code == 400
    assert response.json() == {"max_overlap": ["must be at least overlap (6) when adaptive overlap is on"]}
    text_project.refresh_from_db()
    assert text_project.adaptive_overlap is False


def test_every_setting_is_accepted_on_patch_and_shown_back(api, manager, text_project):
    response = api(manager).patch(f"/api/projects/{text_project.pk}/", SETTINGS, format="json")

    assert response.status_code == 200, response.json()
    assert {name: response.json()[name] for name in SETTINGS} == SETTINGS == stored_settings(text_project.pk)
    assert response.json()["role"] == "manager"


# Blind mode: an annotator sees only their own counts


@pytest.fixture
def three_annotations(text_project, annotator, other_annotator, make_user):
    """Two tasks; the annotator did the first, another annotator did both, a third skipped the second."""
    third = make_user("third_annotator")
    services.add_member(project=text_project, user=third, role="annotator")
    services.update_project(project=text_project, changes={"overlap": 3})
    first, second = import_texts(text_project, "Great food", "Slow service")
    submit(annotator, first)
    submit(other_annotator, first)
    submit(other_annotator, second)
    submit(third, second, was_cancelled=True)
    return first, second


def task_counts(body: dict) -> tuple[int, int]:
    return body["annotation_count"], body["cancelled_count"]


def test_in_a_blind_project_an_annotator_sees_only_their_own_counts(api, annotator, text_project, three_annotations):
    first, second = three_annotations
    client = api(annotator)

    listed = {project["id"]: project for project in client.get("/api/projects/").json()["results"]}
    detail = client.get(f"/api/projects/{text_project.pk}/").json()
    tasks = client.get(f"/api/projects/{text_project.pk}/tasks/").json()["results"]

    assert listed[text_project.pk]["annotation_count"] == detail["annotation_count"] == 1
    assert [task_counts(task) for task in tasks] == [(1, 0), (0, 0)]
    assert task_counts(client.get(f"/api/tasks/{first.pk}/").json()) == (1, 0)
    assert task_counts(client.get(f"/api/tasks/{second.pk}/").json()) == (0, 0)


def test_managers_and_reviewers_see_every_annotators_counts(api, manager, reviewer, text_project, three_annotations):
    first, second = three_annotations
    for user in (manager, reviewer):
        client = api(user)
        tasks = client.get(f"/api/projects/{text_project.pk}/tasks/").json()["results"]
        listed = {project["id"]: project for project in client.get("/api/projects/").json()["results"]}

        assert client.get(f"/api/projects/{text_project.pk}/").json()["annotation_count"] == 3
        assert listed[text_project.pk]["annotation_count"] == 3
        assert [task_counts(task) for task in tasks] == [(2, 0), (1, 1)]
        assert task_counts(client.get(f"/api/tasks/{second.pk}/").json()) == (1, 1)


def test_without_blind_mode_annotators_see_the_shared_counts(api, manager, annotator, text_project, three_annotations):
    api(manager).patch(f"/api/projects/{text_project.pk}/", {"blind": False}, format="json")
    client = api(annotator)

    assert client.get(f"/api/projects/{text_project.pk}/").json()["annotation_count"] == 3
    assert [task_counts(task) for task in client.get(f"/api/projects/{text_project.pk}/tasks/").json()["results"]] == [(2, 0), (1, 1)]


def test_a_blind_annotators_task_list_costs_no_query_per_task(api, annotator, text_project, three_annotations, django_assert_max_num_queries):
    import_texts(text_project, *[f"more {i}" for i in range(20)])
    with django_assert_max_num_queries(8):
        response = api(annotator).get(f"/api/projects/{text_project.pk}/tasks/?page_size=50")
    assert len(response.json()["results"]) == 22
