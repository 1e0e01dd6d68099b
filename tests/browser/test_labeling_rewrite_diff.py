"""The rewrite (a <TextArea> pre-filled with a response) and the <Pairwise> diff toggle in the browser: keyboard
only, then the mouse, on a desktop and a phone; the diff of two 2,000-word responses timed in the page."""
import random

import pytest

from projects import services
from projects.models import Role
from tests.api_helpers import import_tasks

from .helpers import annotations_of, open_labeling, shown_task, wait_for_task, wait_until_saved
from .test_narrow_screens import assert_fits_the_screen, assert_tappable

CONFIG = """<View><Header value="Which answer is better? Then make the first one ideal."/>
  <Text name="prompt" value="$prompt"/>
  <Text name="a" value="$response_a"/><Text name="b" value="$response_b"/><Pairwise name="pw" toName="a,b"/>
  <TextArea name="rewrite" toName="a" value="$response_a" placeholder="Make this the ideal answer" rows="6"
            required="true"/></View>"""
# The target is 50 ms (measured 26-40 ms on the 2-core machine); the test only guards against the plain word
# diff's quadratic blow-up (~700 ms on two unrelated 2,000-word texts) with room for a loaded CI machine.
DIFF_GUARD_MS = 500


def pair(number: int, a: str | None = None, b: str | None = None) -> dict:
    return {"prompt": f"Question {number}?", "response_a": a or f"The capital of France is Paris ({number}).",
            "response_b": b or f"The capital of France is Lyon ({number}).", "model_a": "alpha", "model_b": "beta"}


def long_responses(words: int = 2000) -> tuple[str, str]:
    """Two answers of `words` words from one vocabulary, the second a tenth reworded: what two models write."""
    chance = random.Random(12)
    vocabulary = [f"word{index}" for index in range(300)] + "the a model answer is of to and in that it".split()
    first = [chance.choice(vocabulary) + ("." if index % 16 == 15 else "") for index in range(words)]
    second = [chance.choice(vocabulary) if chance.random() < 0.1 else word for word in first]
    return " ".join(first), " ".join(second)


@pytest.fixture
def rewrite_project(manager, annotator):
    project = services.create_project(creator=manager, title="Rewrites", label_config=CONFIG)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    return project


def rewrite_field(page):
    return page.locator(".panel[data-control=rewrite] textarea")


def texts_of(annotation) -> dict:
    return {item["from_name"]: item["value"] for item in annotation.result}


def test_rewrite_by_keyboard_only(live_server, signed_in, screenshot, rewrite_project, annotator):
    tasks = import_tasks(rewrite_project, [pair(1), pair(2), pair(3)])
    page = open_labeling(signed_in(annotator), live_server, rewrite_project)
    assert shown_task(page) == tasks[0].pk
    field = rewrite_field(page)
    assert field.input_value() == tasks[0].data["response_a"]  # pre-filled with the response it rewrites
    assert field.get_attribute("rows") == "6" and field.get_attribute("placeholder") == "Make this the ideal answer"
    assert page.locator(".panel[data-control=rewrite] .panel-hint kbd").all_inner_texts() == ["E", "Esc", "Ctrl+Enter"]
    assert "unchanged" in page.locator(".textarea-status").inner_text()

    page.keyboard.press("e")
    assert page.evaluate("() => document.activeElement.matches('.panel[data-control=rewrite] textarea')")
    assert field.input_value() == tasks[0].data["response_a"]  # the E did not land in the text
    page.keyboard.press("Escape")  # leaves the field: the page's keys work again
    assert page.evaluate("() => document.activeElement.tagName") != "TEXTAREA"
    page.keyboard.press("1")
    page.keyboard.press("Enter")  # the pre-fill untouched is the answer, as in Label Studio
    wait_for_task(page, tasks[1].pk)

    page.keyboard.press("2")
    page.keyboard.press("e")
    page.keyboard.press("End")
    page.keyboard.type(" Also on the Seine.")
    page.keyboard.press("Enter")  # inside the field: a new line, not a submit
    page.keyboard.type("Source: an atlas.")
    assert shown_task(page) == tasks[1].pk
    assert "Edited" in page.locator(".textarea-status").inner_text()
    screenshot(page, "labeling-rewrite")
    page.keyboard.press("Control+Enter")  # submits from inside the field
    wait_for_task(page, tasks[2].pk)
    wait_until_saved(page)

    first, second = (texts_of(annotation) for annotation in annotations_of(annotator, rewrite_project))
    assert first["rewrite"] == {"text": [tasks[0].data["response_a"]]}
    assert second["rewrite"] == {"text": [tasks[1].data["response_a"] + " Also on the Seine.\nSource: an atlas."]}
    assert page.js_errors == []


def test_rewrite_with_the_mouse_and_a_cleared_field_is_refused(live_server, signed_in, rewrite_project, annotator):
    tasks = import_tasks(rewrite_project, [pair(1), pair(2)])
    page = open_labeling(signed_in(annotator), live_server, rewrite_project)
    page.locator(".pairwise-side").first.locator(".pairwise-pick").click()
    field = rewrite_field(page)
    field.click()
    field.fill("")  # emptied: no answer to a required control
    assert "nothing is submitted" in page.locator(".textarea-status").inner_text()
    page.locator("#btn-submit").click()
    assert "rewrite is required" in page.locator(".panel[data-control=rewrite] .panel-error").inner_text()
    assert shown_task(page) == tasks[0].pk
    field.fill("Paris, on the Seine.")
    page.locator("#btn-submit").click()
    wait_for_task(page, tasks[1].pk)
    wait_until_saved(page)
    [stored] = annotations_of(annotator, rewrite_project)
    assert texts_of(stored)["rewrite"] == {"text": ["Paris, on the Seine."]}
    assert page.js_errors == []


def diff_marks(page) -> dict:
    """The marked words in each pane, in on-screen order: Response 1's <del>, Response 2's <ins>."""
    return page.evaluate("""() => [...document.querySelectorAll('.pairwise-side')].map(side =>
      [...side.querySelectorAll('.pairwise-diff del, .pairwise-diff ins')].map(mark => mark.tagName + ':' + mark.textContent.trim()))""")


def test_diff_by_keyboard_is_fast_on_two_long_responses(live_server, signed_in, screenshot, rewrite_project, annotator):
    long_a, long_b = long_responses()
    tasks = import_tasks(rewrite_project, [pair(1), pair(2, long_a, long_b)])
    page = open_labeling(signed_in(annotator), live_server, rewrite_project)
    assert page.locator(".pairwise-diff-toggle kbd").inner_text() == "D"
    page.keyboard.press("d")
    assert page.locator(".pairwise-diff-toggle").get_attribute("aria-pressed") == "true"
    shown_first = "response_b" if page.locator(".pairwise-side").first.get_attribute("data-side") == "right" else "response_a"
    first_word, second_word = ("Lyon", "Paris") if shown_first == "response_b" else ("Paris", "Lyon")
    assert diff_marks(page) == [[f"DEL:{first_word}"], [f"INS:{second_word}"]]  # each in its own pane
    assert page.locator(".pairwise-side .pairwise-body:visible").count() == 0  # the diff stands in for the texts
    screenshot(page, "labeling-pairwise-diff")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    wait_for_task(page, tasks[1].pk)  # the diff stays on for the next task, computed for its texts

    assert page.locator(".pairwise-side .pairwise-diff del").count() > 20
    timed = page.evaluate("""() => {
      const frame = document.querySelector('.pairwise');
      const press = () => window.dispatchEvent(new KeyboardEvent('keydown', { key: 'd', bubbles: true }));
      press();  // off
      const started = performance.now();
      press();  // on: diff, DOM built, laid out
      frame.getBoundingClientRect();
      return { total: performance.now() - started, diff: Number(frame.dataset.diffMs) };
    }""")
    print(f"diff of two 2,000-word responses: {timed['diff']:.1f} ms computed and built, {timed['total']:.1f} ms with layout")
    assert timed["diff"] < DIFF_GUARD_MS and timed["total"] < DIFF_GUARD_MS * 2, timed
    screenshot(page, "labeling-pairwise-diff-long")
    assert page.js_errors == []


def test_diff_with_the_mouse_on_a_phone(live_server, phone, screenshot, rewrite_project, annotator):
    import_tasks(rewrite_project, [pair(1)])
    page = open_labeling(phone(annotator), live_server, rewrite_project)
    assert_tappable(page, ".pairwise-diff-toggle", scroll=True)
    page.locator(".pairwise-diff-toggle").tap()
    assert page.locator(".pairwise-diff-legend").is_visible()
    assert page.locator(".pairwise-side .pairwise-diff del").count() == 1
    assert_fits_the_screen(page)
    page.locator(".pairwise").scroll_into_view_if_needed()
    screenshot(page, "labeling-pairwise-diff-phone")
    page.locator(".panel[data-control=rewrite]").scroll_into_view_if_needed()
    screenshot(page, "labeling-rewrite-phone")
    page.locator(".pairwise-diff-toggle").tap()
    assert page.locator(".pairwise-side .pairwise-body:visible").count() == 2
    assert page.js_errors == []
