"""The demo manager, as seed_demo makes them, reaches every admin page a manager uses: no 403 anywhere, including
the page a new export snapshot lands on (issue 10, item 8)."""
import html
import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from exports.models import ExportSnapshot
from projects.admin_access import MANAGERS_GROUP, grant_manager_admin
from ml.management.commands.seed_demo import DEMO_USERS
from projects.models import Project
from tests.admin_pages import fill_project, finish_snapshot, forbidden_changelists, manager_admin_pages

pytestmark = pytest.mark.django_db(databases="__all__")  # the jobs run inline write progress through the `jobs` alias


@pytest.fixture
def demo(django_user_model):
    call_command("seed_demo", stdout=io.StringIO())
    manager_account = next(user for user in DEMO_USERS if user.is_manager)
    manager = django_user_model.objects.get(username=manager_account.username)
    annotators = list(django_user_model.objects.filter(username__in=[u.username for u in DEMO_USERS if not u.is_manager]))
    client = Client()
    login = client.post("/admin/login/", {"username": manager.username, "password": manager_account.password, "next": "/admin/"})
    assert (login.status_code, login["Location"]) == (302, "/admin/")
    project = Project.objects.get(title="Demo: product reviews")
    return client, manager, fill_project(project, manager, annotators, with_snapshot=False)


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def test_the_demo_manager_makes_a_snapshot_in_the_admin_and_lands_on_a_page_that_works(demo):
    client, manager, world = demo

    made = client.post(
        f"/admin/exports/exportsnapshot/project/{world.project.pk}/",
        {"exportType": "JSON", "annotations": "final", "tasks": "labeled", "name": "for training", "snapshot": "Make a snapshot"},
        follow=True,
    )

    assert made.status_code == 200, made.redirect_chain
    snapshot = ExportSnapshot.objects.get(project=world.project)
    assert made.redirect_chain[-1][0] == f"/admin/exports/exportsnapshot/{snapshot.pk}/change/"
    assert "Making export snapshot" in page_text(made) and "for training" in page_text(made)
    finish_snapshot(snapshot)
    download = client.get(f"/admin/exports/exportsnapshot/{snapshot.pk}/download/")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")


def test_the_demo_manager_opens_every_admin_page_a_manager_uses(demo):
    client, manager, world = demo
    client.post(
        f"/admin/exports/exportsnapshot/project/{world.project.pk}/",
        {"exportType": "JSON", "annotations": "final", "tasks": "labeled", "snapshot": "Make a snapshot"},
    )
    world.snapshot = finish_snapshot(ExportSnapshot.objects.get(project=world.project))

    for admin_page in manager_admin_pages(manager, world.url_values):
        response = client.get(admin_page.url)
        assert response.status_code == 200, f"{admin_page}: HTTP {response.status_code}"
        if admin_page.is_form:
            assert 'name="_save"' in page_text(response), f"{admin_page}: no Save button"


def test_the_demo_manager_is_refused_the_user_and_token_admin(demo):
    client, _, _ = demo

    assert [client.get(url).status_code for url in forbidden_changelists()] == [403] * len(forbidden_changelists())


def test_a_new_models_permissions_reach_the_managers_group_after_migrate(demo):
    """What makes the grant robust: the group is refreshed after every migrate, so managers need no re-grant."""
    client, manager, _ = demo
    group = Group.objects.get(name=MANAGERS_GROUP)
    snapshot_permissions = Permission.objects.filter(content_type__app_label="exports")
    group.permissions.remove(*snapshot_permissions)  # as if the exports app were new since the manager was seeded
    assert client.get("/admin/exports/exportsnapshot/").status_code == 403

    call_command("migrate", verbosity=0)

    assert client.get("/admin/exports/exportsnapshot/").status_code == 200


def test_granting_is_idempotent_and_makes_the_user_staff(django_user_model):
    user = django_user_model.objects.create(username="lead")
    grant_manager_admin(user)
    grant_manager_admin(user)

    user.refresh_from_db()
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == [MANAGERS_GROUP]
    assert user.has_perm("exports.view_exportsnapshot") and user.has_perm("projects.view_job") and user.has_perm("ml.change_projectmodel")


def test_the_grant_command_names_a_missing_user(django_user_model):
    django_user_model.objects.create(username="lead")
    with pytest.raises(CommandError, match="nobody"):
        call_command("grant_manager_admin", "lead", "nobody")
    call_command("grant_manager_admin", "lead", stdout=io.StringIO())
    assert django_user_model.objects.get(username="lead").is_staff
