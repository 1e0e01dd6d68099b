"""A phone (390x844, touch): every page fits the screen's width, and an annotator labels text and images by tapping."""
import time

import pytest

from projects.models import ReviewStatus, Task
from tests.api_helpers import import_texts, sentiment, submit

from .helpers import annotations_of, at_fraction, image_box, import_images, open_labeling, wait_for_task, wait_until_saved

WIDTH, HEIGHT = 390, 844


def assert_fits_the_screen(page):
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} is {width} px wide on a {WIDTH} px screen"


def assert_tappable(page, selector: str, min_size: int = 40, scroll: bool = False):
    """On screen (once scrolled to, on a page that scrolls), big enough for a thumb, and what a tap at its centre
    reaches (not covered by something else)."""
    if scroll:
        page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not shown"
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= WIDTH and box["y"] + box["height"] <= HEIGHT, (selector, box)
    assert min(box["width"], box["height"]) >= min_size, (selector, box)
    centre = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
    assert page.evaluate("([x, y, selector]) => Boolean(document.elementFromPoint(x, y)?.closest(selector))", [*centre, selector]), selector


def assert_labeling_page_usable(page):
    assert_fits_the_screen(page)
    for selector in ("#btn-submit", "#btn-skip", "#btn-help", "#btn-back"):
        assert_tappable(page, selector)


def test_every_page_fits_a_phone_screen(live_server, phone, screenshot, text_project, image_project, annotator, other_annotator, reviewer):
    text_project.overlap = 2
    text_project.save()
    text = "A rather long review of a product that keeps going, so that it wraps on a small screen. " * 3
    (task, _) = import_texts(text_project, text, "Another one.")
    submit(annotator, task, [sentiment("Positive")])
    submit(other_annotator, task, [sentiment("Negative")])
    Task.objects.filter(pk=task.pk).update(consensus_result=[sentiment("Positive")], agreement=0.5, review_status=ReviewStatus.PENDING)
    import_images(image_project, (800, 600))

    page = phone(annotator)
    page.goto(f"{live_server.url}/")
    assert_fits_the_screen(page)
    screenshot(page, "phone-home")
    page.goto(f"{live_server.url}/projects/{text_project.pk}/")
    assert_fits_the_screen(page)
    assert_tappable(page, "#start")
    screenshot(page, "phone-project")

    open_labeling(page, live_server, text_project)
    assert_labeling_page_usable(page)
    screenshot(page, "phone-labeling-text")
    page.locator("#btn-help").tap()
    page.wait_for_selector("#help[open]")
    help_box = page.locator("#help").bounding_box()
    assert help_box["x"] >= 0 and help_box["x"] + help_box["width"] <= WIDTH
    assert page.evaluate("() => document.querySelector('#help').scrollWidth <= document.querySelector('#help').clientWidth")
    screenshot(page, "phone-help")
    page.locator("#help button[aria-label=Close]").tap()

    open_labeling(page, live_server, image_project)
    assert_labeling_page_usable(page)
    assert_tappable(page, ".zoom-bar button[title^='Zoom in']")
    screenshot(page, "phone-labeling-image")

    review = phone(reviewer)
    review.goto(f"{live_server.url}/projects/{text_project.pk}/review/")
    assert review.locator("section.column").count() == 3
    assert_fits_the_screen(review)
    assert_tappable(review, "button[data-key=a]", scroll=True)
    screenshot(review, "phone-review")
    assert page.js_errors == [] and review.js_errors == []


def test_an_annotator_labels_skips_and_submits_text_by_tapping(live_server, phone, screenshot, text_project, annotator):
    first, second, third = import_texts(text_project, "Great phone, terrible battery.", "Unreadable ###", "Next.")
    page = open_labeling(phone(annotator), live_server, text_project)
    page.locator("#btn-submit").tap()  # nothing chosen: refused, and the message is on screen beside the choices
    message = page.locator(".panel[data-control=sentiment] .panel-error")
    message.wait_for()
    assert_tappable(page, ".choice[data-value=Neutral]")
    page.locator(".choice[data-value=Neutral]").tap()
    assert message.count() == 0
    # Words selected the way a phone does it (long-press, then the handles: the browser's own selection), then a tap
    # on the label. Headless Chromium has no long-press selection, so the test makes the selection itself.
    page.evaluate("""() => {
      const words = document.querySelector('.text-object').firstChild, range = document.createRange();
      range.setStart(words, 6);
      range.setEnd(words, 11);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    }""")
    page.locator(".label-button[data-value=ORG]").tap()
    assert page.locator(".region .region-label").all_inner_texts() == ["ORG"]
    screenshot(page, "phone-labeling-text-chosen")
    page.locator("#btn-submit").tap()
    wait_for_task(page, second.pk)

    page.locator("#btn-skip").tap()
    page.wait_for_selector("#skip-dialog[open]")
    assert_tappable(page, "#skip-confirm")
    page.locator("#skip-confirm").tap()
    wait_for_task(page, third.pk)
    wait_until_saved(page)
    assert "1 skipped" in page.locator("#progress-text").inner_text()
    assert_fits_the_screen(page)
    page.locator("#btn-back").tap()  # the skipped task, marked so, with every pill in the top bar
    wait_for_task(page, second.pk)
    assert page.locator("#skipped-pill").is_visible() and page.locator("#edit-pill").is_visible()
    assert_labeling_page_usable(page)
    screenshot(page, "phone-labeling-skipped-earlier")

    done, skipped = annotations_of(annotator, text_project)
    values = {item["from_name"]: item["value"] for item in done.result}
    assert (done.task_id, done.was_cancelled, values["sentiment"]) == (first.pk, False, {"choices": ["Neutral"]})
    assert (values["entities"]["text"], values["entities"]["labels"]) == ("phone", ["ORG"])
    assert (skipped.task_id, skipped.was_cancelled, skipped.result) == (second.pk, True, [])
    assert page.js_errors == []


def touch_drag(page, start, end, steps: int = 8):
    """A finger dragged across the screen and held still before it lifts (touch events through Chromium's DevTools
    protocol). The event times say so: a finger lifted while moving starts a fling, and Chromium swallows the
    next tap as "stop the fling", which no thumb travelling to Submit would meet."""
    cdp = page.context.new_cdp_session(page)
    began = time.time() - 1  # a second of event time, already past: nothing waits for it

    def touch(kind, at, x=None, y=None):
        points = [] if x is None else [{"x": x, "y": y, "id": 1}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points, "timestamp": began + at})

    touch("touchStart", 0, *start)
    for step in range(1, steps + 1):
        touch("touchMove", step * 0.016, start[0] + (end[0] - start[0]) * step / steps, start[1] + (end[1] - start[1]) * step / steps)
    for hold in range(1, 6):
        touch("touchMove", (steps + hold * 4) * 0.016, *end)
    touch("touchEnd", (steps + 24) * 0.016)
    cdp.detach()


def test_an_annotator_draws_a_box_with_a_finger_and_submits_on_a_phone(live_server, phone, screenshot, image_project, annotator):
    first, second = import_images(image_project, (800, 600), (640, 480))
    page = open_labeling(phone(annotator), live_server, image_project)
    wait_for_task(page, first.pk)
    box = image_box(page)
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH
    page.locator(".label-button[data-value=Person]").tap()
    touch_drag(page, at_fraction(box, 0.2, 0.2), at_fraction(box, 0.6, 0.7))
    page.locator(".region").first.wait_for()
    assert "Person" in page.locator(".region.selected").inner_text()
    screenshot(page, "phone-labeling-image-box")
    page.locator("#btn-submit").tap()
    wait_for_task(page, second.pk)
    wait_until_saved(page)

    # A zoomed image moves under a finger once Pan is on; otherwise a finger on the image draws.
    zoom_in = page.locator(".zoom-bar button[title^='Zoom in']")
    zoom_in.tap()
    zoom_in.tap()
    page.locator(".pan-toggle").tap()
    assert page.locator(".pan-toggle").get_attribute("aria-pressed") == "true"
    scrolled = "() => document.querySelector('.image-viewport').scrollLeft"
    before = page.evaluate(scrolled)
    viewport = page.locator(".image-viewport").bounding_box()
    touch_drag(page, (viewport["x"] + 250, viewport["y"] + 150), (viewport["x"] + 190, viewport["y"] + 150))
    assert page.evaluate(scrolled) - before == pytest.approx(60, abs=3)
    assert page.locator(".region").count() == 0
    screenshot(page, "phone-labeling-image-pan")

    (annotation,) = annotations_of(annotator, image_project)
    (item,) = annotation.result
    assert item["value"]["rectanglelabels"] == ["Person"]
    assert item["value"]["x"] == pytest.approx(20, abs=2) and item["value"]["width"] == pytest.approx(40, abs=2)
    assert item["value"]["y"] == pytest.approx(20, abs=2) and item["value"]["height"] == pytest.approx(50, abs=2)
    assert page.js_errors == []
