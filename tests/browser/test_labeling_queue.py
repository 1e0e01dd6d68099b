"""The queue in the browser: skip with a reason, go back and edit, a conflict shown as such, no duplicates."""
from projects.models import Annotation
from tests.api_helpers import import_texts, sentiment, submit
from tests.conftest import client_for

from .helpers import annotations_of, open_labeling, shown_task, wait_for_task, wait_until_saved


def test_skip_with_a_reason_typed_in_the_dialog(live_server, signed_in, text_project, annotator):
    first, second = import_texts(text_project, "Unreadable ###", "Fine.")
    page = open_labeling(signed_in(annotator), live_server, text_project)
    page.keyboard.press("s")
    page.wait_for_selector("#skip-dialog[open]")
    page.keyboard.type("not a review")
    page.keyboard.press("Enter")
    wait_for_task(page, second.pk)
    wait_until_saved(page)

    (annotation,) = annotations_of(annotator, text_project)
    assert (annotation.task_id, annotation.was_cancelled, annotation.cancel_reason) == (first.pk, True, "not a review")
    assert page.locator("#progress").get_attribute("data-done") == "0"

    page.keyboard.press("s")
    page.keyboard.press("Escape")  # cancelling the dialog skips nothing
    assert shown_task(page) == second.pk and Annotation.objects.count() == 1


def test_go_back_and_edit_an_earlier_annotation(live_server, signed_in, text_project, annotator):
    tasks = import_texts(text_project, "One.", "Two.", "Three.")
    page = open_labeling(signed_in(annotator), live_server, text_project)
    page.keyboard.press("p")
    page.keyboard.press("Enter")
    wait_for_task(page, tasks[1].pk)
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    wait_for_task(page, tasks[2].pk)

    page.keyboard.press("[")  # the newest earlier task first, with its stored answer on screen
    wait_for_task(page, tasks[1].pk)
    assert page.locator("#edit-pill").is_visible()
    assert page.locator(".choice[data-value=Negative]").get_attribute("aria-checked") == "true"
    page.keyboard.press("[")
    wait_for_task(page, tasks[0].pk)
    page.keyboard.press("2")  # Neutral instead of Positive
    page.keyboard.press("Enter")  # saves, then moves one step towards the queue
    wait_for_task(page, tasks[1].pk)
    page.keyboard.press("]")
    wait_for_task(page, tasks[2].pk)
    assert page.locator("#edit-pill").is_hidden()
    assert page.url.endswith(f"/projects/{text_project.pk}/label/")

    stored = annotations_of(annotator, text_project)
    assert [(a.task_id, a.result[0]["value"]["choices"], a.version) for a in stored] == [
        (tasks[0].pk, ["Neutral"], 2), (tasks[1].pk, ["Negative"], 1)]


def test_an_edit_that_clashes_with_a_newer_version_says_so_and_keeps_both(live_server, signed_in, screenshot, text_project, annotator):
    (task,) = import_texts(text_project, "Edited twice.")
    created = submit(annotator, task, [sentiment("Positive")]).json()
    page = open_labeling(signed_in(annotator), live_server, text_project, task.pk)
    assert page.locator("#edit-pill").is_visible()
    # Meanwhile, in another tab, the same annotator changes it.
    other_tab = client_for(annotator).patch(f"/api/annotations/{created['id']}/", {"result": [sentiment("Negative")], "version": 1}, format="json")
    assert other_tab.status_code == 200

    page.keyboard.press("2")  # Neutral
    page.keyboard.press("Enter")
    banner = page.locator(".banner-error")
    banner.wait_for()
    assert "changed elsewhere" in banner.inner_text()
    screenshot(page, "labeling-conflict")
    assert page.locator(".choice[data-value=Neutral]").get_attribute("aria-checked") == "true"  # nothing lost
    assert Annotation.objects.get().result[0]["value"]["choices"] == ["Negative"]  # nothing overwritten silently

    page.get_by_role("button", name="Overwrite with mine").click()
    page.wait_for_function("() => !document.querySelector('.banner-error')")
    wait_until_saved(page)
    stored = Annotation.objects.get()
    assert (stored.result[0]["value"]["choices"], stored.version) == (["Neutral"], 3)


def test_a_lost_answer_and_a_double_click_store_one_annotation(live_server, signed_in, text_project, annotator):
    first, second, third = import_texts(text_project, "A.", "B.", "C.")
    page = open_labeling(signed_in(annotator), live_server, text_project)
    keys = []

    def lose_first_answer(route):
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()  # the server stores it...
            route.abort("connectionreset")  # ...but the browser never hears back, and retries
        else:
            route.continue_()

    page.route("**/api/tasks/*/annotations/", lose_first_answer)
    page.keyboard.press("p")
    page.locator("#btn-submit").dblclick()
    wait_for_task(page, second.pk)
    page.wait_for_timeout(300)
    assert shown_task(page) == second.pk  # the double click's second click did not submit the next task
    wait_until_saved(page)

    assert len(keys) == 2 and keys[0] == keys[1]  # the retry sent the same Idempotency-Key
    stored = annotations_of(annotator, text_project)
    assert [(a.task_id, a.result[0]["value"]["choices"]) for a in stored] == [(first.pk, ["Positive"])]


def test_offline_submissions_wait_in_the_browser_and_go_out_when_back(live_server, signed_in, context, text_project, annotator):
    first, second, third = import_texts(text_project, "A.", "B.", "C.")
    page = open_labeling(signed_in(annotator), live_server, text_project)
    wait_for_task(page, first.pk)
    page.wait_for_function("() => window.labelerMetrics.pageShownAt !== null")
    page.wait_for_timeout(200)  # the next task is prefetched
    context.set_offline(True)
    page.keyboard.press("p")
    page.keyboard.press("Enter")
    wait_for_task(page, second.pk)  # shown from the prefetch, with no server
    page.wait_for_selector("#save-status[data-state=offline]")
    assert "1 waiting" in page.locator("#save-status").inner_text()
    assert Annotation.objects.count() == 0

    # The next one was not prefetched (offline): the page says it is waiting, and carries on when back.
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.locator(".banner-error", has_text="Can't reach the server").wait_for()
    assert "2 waiting" in page.locator("#save-status").inner_text()

    context.set_offline(False)
    wait_for_task(page, third.pk)
    wait_until_saved(page)
    assert page.locator(".banner-error").count() == 0
    stored = [(a.task_id, a.result[0]["value"]["choices"]) for a in annotations_of(annotator, text_project)]
    assert stored == [(first.pk, ["Positive"]), (second.pk, ["Negative"])]


def test_leaving_the_page_gives_back_the_leased_tasks(live_server, signed_in, text_project, annotator):
    from projects.models import TaskLease

    import_texts(text_project, "A.", "B.", "C.")
    page = open_labeling(signed_in(annotator), live_server, text_project)
    page.wait_for_function("() => window.labelerMetrics.pageShownAt !== null")
    page.wait_for_timeout(200)
    assert TaskLease.objects.filter(user=annotator).count() == 2  # the task on screen and the prefetched one
    page.goto(f"{live_server.url}/")
    page.wait_for_timeout(300)
    assert TaskLease.objects.filter(user=annotator).count() == 0


def test_a_task_already_annotated_in_another_tab_is_reported_and_reopened(live_server, signed_in, text_project, annotator):
    first, second = import_texts(text_project, "A.", "B.")
    page = open_labeling(signed_in(annotator), live_server, text_project)
    wait_for_task(page, first.pk)
    assert submit(annotator, first, [sentiment("Negative")]).status_code == 201  # the other tab was quicker
    page.keyboard.press("p")
    page.keyboard.press("Enter")
    banner = page.locator(".banner-error")
    banner.wait_for()
    assert f"Task {first.pk}" in banner.inner_text() and "not saved" in banner.inner_text()

    banner.get_by_role("button", name="Open it").click()
    wait_for_task(page, first.pk)
    assert page.locator(".choice[data-value=Positive]").get_attribute("aria-checked") == "true"  # our version, kept
    page.locator(".banner-error").wait_for()
    page.keyboard.press("r")  # load the stored one instead
    assert page.locator(".choice[data-value=Negative]").get_attribute("aria-checked") == "true"
    assert Annotation.objects.get().result[0]["value"]["choices"] == ["Negative"]
