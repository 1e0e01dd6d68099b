"""<Pairwise> in the browser: two responses side by side, chosen by keyboard then by mouse, and the position-bias
round trip: on a page the server swapped, the key for the response shown on the left stores the task's own side."""
import pytest

from controls.pairwise import shows_swapped
from projects import services
from projects.models import Role, Task
from projects.task_edits import delete_task
from tests.api_helpers import import_tasks

from .helpers import annotations_of, open_labeling, shown_task, wait_for_task, wait_until_saved
from .test_narrow_screens import assert_fits_the_screen, assert_tappable

CONFIG = """<View><Header value="Which answer is better?"/>
  <Text name="a" value="$response_a"/><Text name="b" value="$response_b"/>
  <Pairwise name="pw" toName="a,b" allowTie="true"/></View>"""
LONG = "\n\n".join(f"Paragraph {index}: the capital of France is Paris, on the Seine, home to the Louvre." for index in range(40))


@pytest.fixture
def pairwise_project(manager, annotator):
    project = services.create_project(creator=manager, title="Preferences", label_config=CONFIG)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    return project


def tasks_swapped_then_not(project, annotator, count: int) -> list[Task]:
    """`count` tasks in queue order, the first one swapped for this annotator and the second not (the rest are
    deleted): which pairs are swapped is the server's hash, computed here as the server does."""
    tasks = import_tasks(project, [{"response_a": f"A{index}: {LONG}", "response_b": f"B{index}: short."} for index in range(24)])
    first = next(task for task in tasks if shows_swapped(task.pk, annotator.pk))
    later = [task for task in tasks if task.pk > first.pk]
    second = next(task for task in later if not shows_swapped(task.pk, annotator.pk))
    kept = [first, second, *[task for task in later if task.pk > second.pk][: count - 2]]
    for task in Task.objects.filter(project=project).exclude(pk__in=[task.pk for task in kept]):
        delete_task(task=task)
    return kept


def shown_sides(page) -> list[str]:
    """The task's sides ("left" = object a) in the order the page shows them."""
    return page.locator(".pairwise-side").evaluate_all("sides => sides.map(side => side.dataset.side)")


def assert_shown_in_order(page, task: Task, swapped: bool):
    assert shown_sides(page) == (["right", "left"] if swapped else ["left", "right"])
    first_text = page.locator(".pairwise-side").first.locator(".text-object").inner_text()
    assert first_text.startswith(task.data["response_b" if swapped else "response_a"][:3])


def selected_of(annotation) -> str:
    return annotation.result[0]["value"]["selected"]


def test_choose_by_keyboard_only_with_the_swapped_order_stored_unswapped(live_server, signed_in, screenshot, pairwise_project, annotator):
    tasks = tasks_swapped_then_not(pairwise_project, annotator, 4)
    page = open_labeling(signed_in(annotator), live_server, pairwise_project)
    assert shown_task(page) == tasks[0].pk
    assert_shown_in_order(page, tasks[0], swapped=True)  # b on the left: the server's order for this annotator
    # The keys are on screen, beside each response and each answer in the sidebar.
    assert page.locator(".pairwise-side").first.locator(".pairwise-pick kbd").all_inner_texts() == ["1", "←"]
    assert page.locator(".pairwise-choice kbd").all_inner_texts() == ["1", "←", "2", "→", "T"]
    page.keyboard.press("Enter")  # nothing chosen: the comparison is required
    assert "pw is required" in page.locator(".panel[data-control=pw] .panel-error").inner_text()

    page.keyboard.press("1")  # the response shown on the LEFT, which is the task's b
    left_on_screen = page.locator(".pairwise-side").first
    assert "chosen" in left_on_screen.get_attribute("class") and left_on_screen.get_attribute("data-side") == "right"
    assert page.locator(".pairwise-choice[data-shown='0']").get_attribute("aria-checked") == "true"
    # Each response scrolls on its own: the long one overflows its frame, the page itself does not move.
    long_frame = page.locator(".pairwise-side[data-side=left] .object-frame")
    assert long_frame.evaluate("frame => frame.scrollHeight > frame.clientHeight + 100")
    screenshot(page, "labeling-pairwise-swapped")
    page.keyboard.press("Enter")

    wait_for_task(page, tasks[1].pk)
    assert_shown_in_order(page, tasks[1], swapped=False)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    wait_for_task(page, tasks[2].pk)
    page.keyboard.press("t")
    assert page.locator(".pairwise-side.tied").count() == 2
    page.keyboard.press("?")
    help_text = page.locator("#help-body").inner_text()
    assert "Response 1 (left, or above) is better" in help_text and "A tie: both are equally good" in help_text
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    wait_for_task(page, tasks[3].pk)
    wait_until_saved(page)

    stored = annotations_of(annotator, pairwise_project)
    assert [(a.task_id, selected_of(a)) for a in stored] == [
        (tasks[0].pk, "right"), (tasks[1].pk, "right"), (tasks[2].pk, "tie")]
    assert all(a.result[0]["to_name"] == "a,b" and a.result[0]["type"] == "pairwise" for a in stored)
    assert page.js_errors == []


def test_choose_with_the_mouse(live_server, signed_in, pairwise_project, annotator):
    tasks = tasks_swapped_then_not(pairwise_project, annotator, 3)
    page = open_labeling(signed_in(annotator), live_server, pairwise_project)
    page.locator(".pairwise-side").nth(1).locator(".pairwise-pick").click()  # on screen right: the task's a
    assert page.locator(".pairwise-side").nth(1).locator(".pairwise-badge").inner_text() == "Better"
    page.locator(".pairwise-choice[data-shown='0']").click()  # changed my mind: the left one (the task's b)
    page.locator("#btn-submit").click()
    wait_for_task(page, tasks[1].pk)
    page.locator(".pairwise-choice[data-tie]").click()
    page.locator("#btn-submit").click()
    wait_for_task(page, tasks[2].pk)
    wait_until_saved(page)
    assert [selected_of(a) for a in annotations_of(annotator, pairwise_project)] == ["right", "tie"]

    page.keyboard.press("[")
    wait_for_task(page, tasks[1].pk)
    page.keyboard.press("[")  # the first task again, to edit: in the order it was judged in, its answer on the left
    wait_for_task(page, tasks[0].pk)
    assert_shown_in_order(page, tasks[0], swapped=True)
    assert "chosen" in page.locator(".pairwise-side").first.get_attribute("class")
    assert page.js_errors == []


def test_the_two_responses_stack_on_a_phone(live_server, phone, screenshot, pairwise_project, annotator):
    tasks = tasks_swapped_then_not(pairwise_project, annotator, 2)
    page = open_labeling(phone(annotator), live_server, pairwise_project)
    first, second = (page.locator(".pairwise-side").nth(index).bounding_box() for index in (0, 1))
    assert second["y"] >= first["y"] + first["height"] - 1 and abs(first["x"] - second["x"]) < 1  # one above the other
    assert_fits_the_screen(page)
    assert_tappable(page, ".pairwise-side:first-child .pairwise-pick")
    screenshot(page, "labeling-pairwise-phone")
    page.locator(".pairwise-side").first.locator(".pairwise-pick").tap()
    page.locator("#btn-submit").tap()
    wait_for_task(page, tasks[1].pk)
    wait_until_saved(page)
    assert [selected_of(a) for a in annotations_of(annotator, pairwise_project)] == ["right"]
    page.locator(".sidebar").scroll_into_view_if_needed()
    screenshot(page, "labeling-pairwise-phone-task-2")
    assert page.js_errors == []
