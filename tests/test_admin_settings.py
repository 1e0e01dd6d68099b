"""Project settings in the admin: the model's rules refuse bad values there as in the API, and the admin saves
through the same services."""
import html

import pytest
from django.core.exceptions import ValidationError
from django.utils.safestring import SafeString

from projects import services
from projects.models import Project
from tests.admin_pages import manager_models, manager_request
from tests.conftest import IMAGE_CONFIG, TEXT_CONFIG
from tests.test_admin import project_form

BAD_VALUES = [
    ("overlap", "0", "Ensure this value is greater than or equal to 1."),
    ("lease_minutes", "0", "Ensure this value is greater than or equal to 1."),
    ("gold_share", "7", "Ensure this value is less than or equal to 1.0."),
    ("agreement_threshold", "3.5", "Ensure this value is less than or equal to 1.0."),
    ("review_sample_rate", "-2", "Ensure this value is greater than or equal to 0.0."),
    ("iou_threshold", "9", "Ensure this value is less than or equal to 1.0."),
    ("max_overlap", "0", "Ensure this value is greater than or equal to 1."),
]


def field_errors(response, name: str) -> str:
    """The error list the admin shows on one field's row."""
    page = html.unescape(response.content.decode())
    start = page.find(f"field-{name}")
    assert start >= 0, f"no row for {name}"
    end = page.find('class="form-row', start)
    return page[start:end]


@pytest.mark.parametrize(("name", "value", "message"), BAD_VALUES)
def test_the_admin_add_form_refuses_a_bad_setting_on_its_field(admin_client, name, value, message):
    response = admin_client.post("/admin/projects/project/add/", project_form(**{name: value}))

    assert response.status_code == 200
    assert message in field_errors(response, name)
    assert not Project.objects.exists()


@pytest.mark.parametrize(("name", "value", "message"), BAD_VALUES)
def test_the_admin_change_form_refuses_a_bad_setting_and_keeps_the_old_one(admin_client, text_project, name, value, message):
    before = getattr(text_project, name)

    response = admin_client.post(
        f"/admin/projects/project/{text_project.pk}/change/", project_form(title="Reviews", label_config=TEXT_CONFIG, **{name: value})
    )

    assert response.status_code == 200
    assert message in field_errors(response, name)
    text_project.refresh_from_db()
    assert getattr(text_project, name) == before


def test_adaptive_overlap_with_max_overlap_below_overlap_is_refused_on_max_overlap(admin_client):
    response = admin_client.post("/admin/projects/project/add/", project_form(overlap="3", adaptive_overlap="on", max_overlap="2"))

    assert response.status_code == 200
    assert "must be at least overlap (3) when adaptive overlap is on" in field_errors(response, "max_overlap")
    assert not Project.objects.exists()


def test_the_admin_saves_through_the_services_the_api_uses(admin_client, staff_manager, annotator, monkeypatch):
    calls = []
    for name in ("create_project", "update_project"):
        service = getattr(services, name)
        monkeypatch.setattr(services, name, lambda *args, _service=service, _name=name, **kwargs: calls.append(_name) or _service(*args, **kwargs))

    admin_client.post("/admin/projects/project/add/", project_form(gold_share="0.25", blind=""))
    project = Project.objects.get(title="Faces")
    admin_client.post(f"/admin/projects/project/{project.pk}/change/", project_form(gold_share="0.5", overlap="2", blind=""))

    project.refresh_from_db()
    assert calls.count("create_project") == 1 and calls.count("update_project") == 1
    assert (project.gold_share, project.blind, project.overlap) == (0.5, False, 2)
    assert project.members.get().user == staff_manager


@pytest.mark.parametrize(("name", "value"), [(name, value) for name, value, _ in BAD_VALUES])
def test_the_services_refuse_a_bad_setting_for_any_writer(manager, text_project, name, value):
    number = float(value) if "." in value or name in ("gold_share", "agreement_threshold", "review_sample_rate", "iou_threshold") else int(value)

    with pytest.raises(ValidationError) as created:
        services.create_project(creator=manager, title="Faces", label_config=IMAGE_CONFIG, **{name: number})
    with pytest.raises(ValidationError) as updated:
        services.update_project(project=text_project, changes={name: number})

    assert list(created.value.message_dict) == list(updated.value.message_dict) == [name]
    assert Project.objects.count() == 1
    assert getattr(Project.objects.get(pk=text_project.pk), name) == getattr(text_project, name)


def test_the_services_refuse_a_bad_label_config_naming_the_tag(manager):
    with pytest.raises(ValidationError) as refused:
        services.create_project(creator=manager, title="Faces", label_config="<View><Polygon name='p' toName='i'/></View>")

    assert "Polygon" in refused.value.message_dict["label_config"][0]


def test_the_services_refuse_what_is_not_a_setting(manager, text_project):
    with pytest.raises(TypeError, match="task_count"):
        services.update_project(project=text_project, changes={"task_count": 5})



def test_no_admin_form_has_markup_in_a_help_text(superuser):
    """The admin shows help texts as HTML: a literal tag in one (the label config's <TextArea>) opened a textarea
    that swallowed the rest of the project form. Help texts are plain text, unless marked safe on purpose."""
    request = manager_request(superuser)
    offending = []
    ours, _ = manager_models()  # Django's own user forms are out of our hands (and mark theirs safe lazily)
    for model, model_admin in ours:
        forms = [model_admin.get_form(request)]
        forms += [inline.get_formset(request).form for inline in model_admin.get_inline_instances(request)]
        for form in forms:
            for name, field in form.base_fields.items():
                text = str(field.help_text)
                if ("<" in text or "&" in text) and not isinstance(field.help_text, SafeString):
                    offending.append(f"{model._meta.label}.{name}: {text}")
    assert not offending


# Members in the admin: named by username, saved through the membership services


def member_forms(*rows, initial: int = 0) -> dict:
    """The members inline's POST fields: rows of (member id or "", username, role, delete)."""
    fields = {"members-TOTAL_FORMS": str(len(rows)), "members-INITIAL_FORMS": str(initial), "members-MIN_NUM_FORMS": "0", "members-MAX_NUM_FORMS": "1000"}
    for index, (member_id, username, role, delete) in enumerate(rows):
        fields |= {f"members-{index}-id": member_id, f"members-{index}-user": username, f"members-{index}-role": role}
        if delete:
            fields[f"members-{index}-DELETE"] = "on"
    return fields


def change_project(client, project, *rows, initial: int):
    form = project_form(title=project.title, label_config=project.label_config)
    form |= member_forms(*rows, initial=initial)
    return client.post(f"/admin/projects/project/{project.pk}/change/", form, follow=True)


def test_a_manager_adds_a_member_by_username_in_the_project_page(admin_client, staff_manager, outsider, text_project):
    own = text_project.members.get(user=staff_manager)

    response = change_project(admin_client, text_project, (own.pk, "manager", "manager", False), ("", "outsider", "reviewer", False), initial=1)

    assert response.status_code == 200
    assert text_project.members.get(user=outsider).role == "reviewer"


def test_an_unknown_username_is_refused_on_its_row(admin_client, staff_manager, text_project):
    own = text_project.members.get(user=staff_manager)

    response = change_project(admin_client, text_project, (own.pk, "manager", "manager", False), ("", "nobody", "annotator", False), initial=1)

    assert "No user with that username." in html.unescape(response.content.decode())
    assert text_project.members.count() == 3


def test_the_last_manager_cannot_be_removed_or_demoted_in_the_project_page(admin_client, staff_manager, text_project):
    own = text_project.members.get(user=staff_manager)

    removed = change_project(admin_client, text_project, (own.pk, "manager", "manager", True), initial=1)
    demoted = change_project(admin_client, text_project, (own.pk, "manager", "annotator", False), initial=1)

    for response in (removed, demoted):
        assert "A project needs at least one manager" in html.unescape(response.content.decode())
    assert text_project.members.get(user=staff_manager).role == "manager"


def test_a_manager_hands_the_project_over_in_one_save(admin_client, staff_manager, annotator, text_project):
    own = text_project.members.get(user=staff_manager)
    theirs = text_project.members.get(user=annotator)

    change_project(admin_client, text_project, (own.pk, "manager", "annotator", False), (theirs.pk, "annotator", "manager", False), initial=2)

    assert dict(text_project.members.values_list("user__username", "role")) == {
        "manager": "annotator", "annotator": "manager", "other_annotator": "annotator",
    }


def test_deleting_the_last_manager_in_the_member_list_is_refused_and_says_why(admin_client, staff_manager, text_project):
    own = text_project.members.get(user=staff_manager)

    response = admin_client.post(f"/admin/projects/projectmember/{own.pk}/delete/", {"post": "yes"}, follow=True)

    assert "Nothing was saved" in html.unescape(response.content.decode())
    assert text_project.members.filter(user=staff_manager, role="manager").exists()
