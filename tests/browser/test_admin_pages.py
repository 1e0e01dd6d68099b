"""Every admin page a project manager uses opens whole in a real browser: no console error, and each form ends
with its Save row inside the form (a help text that opens a <textarea> once swallowed the rest of the project form).
"""
import pytest
from django.db import transaction
from django.utils import timezone

from projects import services
from projects.admin_access import grant_manager_admin
from ml.models import ProjectModel
from projects.models import JudgeCheck, Project, Task
from projects.predictions import PredictionRow, store_predictions
from tests.api_helpers import import_tasks
from tests.admin_pages import fill_project, forbidden_changelists, manager_admin_pages, manager_request
from tests.test_leaderboard_api import arena, judges  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")  # jobs report through the `jobs` alias

# What a page shows when a value reached the template unformatted.
RAW_MARKERS = ("{'", "['", "object at 0x", "<bound method", "[object Object]", "undefined", "Traceback")


@pytest.fixture
def manager_world(manager, annotator, other_annotator, text_project):
    grant_manager_admin(manager)
    return fill_project(text_project, manager, [annotator, other_annotator])


@pytest.fixture
def console_errors():
    def watch(page) -> list[str]:
        errors = page.js_errors

        def on_console(message) -> None:
            # The browser asks every site for /favicon.ico; the admin has none, and nobody sees the difference.
            if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
                errors.append(f"{message.text} ({message.location.get('url')})")

        page.on("console", on_console)
        return errors

    return watch


def shown_text(page) -> str:
    """The page's text without form controls' values (a JSON field is edited as JSON, which is fine)."""
    return page.evaluate(
        """() => { const copy = document.querySelector('#content').cloneNode(true);
                   copy.querySelectorAll('textarea, input, select, script, style').forEach(node => node.remove());
                   return copy.textContent; }"""
    )


def raw_values(text: str) -> list[str]:
    text = " ".join(text.split())
    found = []
    for marker in RAW_MARKERS:
        at = text.find(marker)
        if at >= 0:
            found.append(text[max(0, at - 60):at + 60])
    return found


def assert_form_is_whole(page, admin_page) -> None:
    form = page.locator("#content-main form").first
    save = form.locator(".submit-row input[name=_save]")
    assert save.count() == 1 and save.is_visible(), f"{admin_page}: no visible Save button inside the form"
    fieldsets = form.locator("fieldset.module")
    declared = admin_page.model_admin.get_fieldsets(page.admin_request, admin_page.obj)
    assert fieldsets.count() >= len(declared), f"{admin_page}: {fieldsets.count()} of {len(declared)} fieldsets rendered"
    assert fieldsets.last.is_visible(), f"{admin_page}: its last fieldset is hidden"
    for inline in admin_page.model_admin.get_inline_instances(page.admin_request, admin_page.obj):
        group = form.locator(f"#{inline.get_formset(page.admin_request, admin_page.obj).get_default_prefix()}-group")
        assert group.count() == 1 and group.is_visible(), f"{admin_page}: inline {inline.model.__name__} missing"


def test_every_admin_page_a_manager_uses_opens_whole(signed_in, live_server, manager, manager_world, console_errors):
    page = signed_in(manager)
    errors = console_errors(page)
    page.admin_request = manager_request(manager)
    pages = manager_admin_pages(manager, manager_world.url_values)
    assert {p.kind for p in pages} >= {"index", "changelist", "add", "change", "delete", "history", "custom", "download"}
    for admin_page in pages:
        if admin_page.kind == "download":
            answer = page.request.get(live_server.url + admin_page.url)
            assert answer.status == 200 and "attachment" in answer.headers["content-disposition"], admin_page
            continue
        response = page.goto(live_server.url + admin_page.url)
        assert response.status == 200, f"{admin_page}: HTTP {response.status}"
        page.wait_for_load_state("load")
        assert not errors, f"{admin_page}: console errors {errors}"
        assert page.locator("#content").count() == 1, f"{admin_page}: no admin content"
        raw = raw_values(shown_text(page))
        assert not raw, f"{admin_page}: raw values shown: {raw}"
        if admin_page.is_form:
            assert_form_is_whole(page, admin_page)
        elif admin_page.kind == "delete" or admin_page.kind == "custom" and page.locator("#content form").count():
            # a custom page with a form shows its button; a report page (the LLM judges') has no form
            assert page.locator("#content form input[type=submit]").first.is_visible(), f"{admin_page}: no submit button"


def test_the_manager_is_refused_the_admin_pages_of_users_and_tokens(signed_in, live_server, manager, manager_world):
    page = signed_in(manager)
    for url in forbidden_changelists():
        assert page.goto(live_server.url + url).status == 403, url


@pytest.mark.parametrize("width", [1440, 390])
def test_the_project_change_page_shows_every_setting_and_the_save_row(signed_in, live_server, manager, manager_world, screenshot, width):
    page = signed_in(manager)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/admin/projects/project/{manager_world.project.pk}/change/")

    for link in ("Import a file…", "Agreement and annotators…", "Export…"):
        assert page.get_by_role("link", name=link).is_visible()
    assert page.locator("#members-group").is_visible()
    page.locator(".submit-row").scroll_into_view_if_needed()
    assert page.locator(".submit-row input[name=_save]").is_visible()
    screenshot(page, f"admin-project-change-{width}")
    page.screenshot(path=str(screenshot(page, f"admin-project-change-{width}")).replace(".png", "-full.png"), full_page=True)


def test_the_project_form_refuses_bad_settings_in_the_browser(signed_in, live_server, manager, manager_world):
    project = manager_world.project
    page = signed_in(manager)
    page.goto(f"{live_server.url}/admin/projects/project/{project.pk}/change/")

    page.fill("#id_overlap", "0")
    page.click("input[name=_save]")
    overlap_error = page.locator(".field-overlap .errorlist")
    overlap_error.wait_for()
    assert "greater than or equal to 1" in overlap_error.inner_text()

    page.fill("#id_overlap", "3")
    page.check("#id_adaptive_overlap")
    page.fill("#id_max_overlap", "2")
    page.click("input[name=_save]")
    error = page.locator(".field-max_overlap .errorlist")
    error.wait_for()
    assert "must be at least overlap (3) when adaptive overlap is on" in error.inner_text()
    assert page.locator(".submit-row input[name=_save]").is_visible()
    saved = Project.objects.get(pk=project.pk)
    assert (saved.overlap, saved.adaptive_overlap, saved.max_overlap) == (2, False, 5)

    page.fill("#id_max_overlap", "4")
    page.click("input[name=_save]")
    page.locator(".messagelist .success").wait_for()
    saved.refresh_from_db()
    assert (saved.overlap, saved.adaptive_overlap, saved.max_overlap) == (3, True, 4)


@pytest.mark.parametrize("width", [1440, 390])
def test_the_leaderboard_page_shows_the_models_chart_and_heat_table_within_the_screen(
        signed_in, live_server, manager, arena, console_errors, screenshot, width):
    grant_manager_admin(manager)
    page = signed_in(manager)
    errors = console_errors(page)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/admin/projects/project/{arena.pk}/change/")
    page.get_by_role("link", name="Model leaderboard…").click()
    page.locator("#leaderboard").wait_for()

    assert page.locator("#leaderboard tbody tr td:nth-child(2)").all_inner_texts() == ["alpha", "beta", "gamma"]
    assert page.locator("#interval-chart circle.dot").count() == 3 and page.locator("#interval-chart").is_visible()
    assert page.locator("#win-rates").is_visible()
    page_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert page_width <= width, f"the page is {page_width} px wide on a {width} px screen"
    chart = page.locator("#interval-chart").bounding_box()
    assert chart["x"] >= 0 and chart["x"] + chart["width"] <= width
    screenshot(page, f"admin-leaderboard-{width}")
    page.screenshot(path=str(screenshot(page, f"admin-leaderboard-{width}")).replace(".png", "-full.png"), full_page=True)

    page.select_option("#id_source", "annotations")
    page.fill("#id_bootstrap", "0")
    page.get_by_role("button", name="Show").click()
    page.locator(".board-facts", has_text="18 battles").wait_for()
    assert page.locator("#interval-chart line.interval").count() == 0
    assert not errors, errors


def judged_against_people(manager) -> Project:
    """Four tasks an LLM judge answered, three of them with a human consensus, one settled by a single check."""
    config = """<View><Text name="a" value="$a"/><Text name="b" value="$b"/><Pairwise name="pw" toName="a,b"/></View>"""
    project = services.create_project(creator=manager, title="Judged", label_config=config, overlap=3)
    tasks = import_tasks(project, [{"a": f"A{index}", "b": f"B{index}"} for index in range(4)])
    pick = lambda side: [{"from_name": "pw", "to_name": "a,b", "type": "pairwise", "value": {"selected": side}}]  # noqa: E731
    with transaction.atomic():
        store_predictions(project.pk, [PredictionRow(task.pk, "llm_judge:qwen2.5-7b-instruct:1a2b3c4d", 1.0, pick("left"),
                                                     {"swap_consistent": index != 3}) for index, task in enumerate(tasks)])
    for task, human in zip(tasks, ["left", "left", "right"]):
        Task.objects.filter(pk=task.pk).update(consensus_result=pick(human), consensus_at=timezone.now())
    Task.objects.filter(pk=tasks[0].pk).update(judge_check=JudgeCheck.AGREED, annotation_count=1)
    return project


@pytest.mark.parametrize("width", [1440, 390])
def test_the_judges_page_shows_agreement_with_people_and_what_the_checks_saved(
        signed_in, live_server, manager, console_errors, screenshot, width):
    grant_manager_admin(manager)
    project = judged_against_people(manager)
    page = signed_in(manager)
    errors = console_errors(page)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/admin/projects/project/{project.pk}/change/")
    page.get_by_role("link", name="LLM judges against people…").click()
    page.locator("h3.judge-version").wait_for()

    text = page.locator("#content").inner_text()
    assert "2 human judgments saved" in text and "1 task settled by one person" in text
    assert "4 tasks judged · same in both orders: 75% of 4 tasks" in text
    assert page.locator(".judge-scroll tbody td").all_inner_texts() == ["pw", "3", "67%", "0.00"]
    page_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert page_width <= width, f"the page is {page_width} px wide on a {width} px screen"
    screenshot(page, f"admin-judges-{width}")
    assert not errors, errors


@pytest.mark.parametrize("width", [1440, 390])
def test_the_pages_this_issue_changed_fit_the_screen(signed_in, live_server, manager, manager_world, console_errors,
                                                     screenshot, width):
    """The project form (predictions shown to annotators, the judges' link), the project model's judge settings
    and the quality page (its date), at a desktop's and a phone's width."""
    project = manager_world.url_values["project_id"]
    ProjectModel.objects.filter(project_id=project).update(engine="llm_judge", url="http://llm.example/v1",
                                                           llm_model="qwen2.5-7b-instruct")
    model = ProjectModel.objects.get(project_id=project)
    Project.objects.filter(pk=project).update(quality_summary={"computed_at": "2026-11-23T10:00:00+00:00", "tasks": 0})
    page = signed_in(manager)
    errors = console_errors(page)
    page.set_viewport_size({"width": width, "height": 900})
    for name, path, seen in [
        ("project", f"/admin/projects/project/{project}/change/", "show predictions to annotators"),
        ("project-model", f"/admin/ml/projectmodel/{model.pk}/change/", "LLM judge"),
        ("quality", f"/admin/projects/project/{project}/quality/", "Computed 23 Nov 2026, 10:00 UTC"),
    ]:
        page.goto(live_server.url + path)
        assert seen.lower() in page.locator("#content").inner_text().lower(), name
        page_width = page.evaluate("() => document.documentElement.scrollWidth")
        assert page_width <= width, f"{name}: the page is {page_width} px wide on a {width} px screen"
        page.screenshot(path=str(screenshot(page, f"admin-{name}-{width}")).replace(".png", "-full.png"), full_page=True)
    assert not errors, errors
