"""Image tasks: boxes drawn, resized, relabelled and deleted with Annotorious; zoom; percent coordinates stored."""
import pytest

from .helpers import annotations_of, at_fraction, drag, image_box, import_images, open_labeling, wait_for_task, wait_until_saved


def test_draw_resize_relabel_and_delete_boxes(live_server, signed_in, screenshot, image_project, annotator):
    first, second = import_images(image_project, (800, 600), (640, 480))
    page = open_labeling(signed_in(annotator), live_server, image_project)
    wait_for_task(page, first.pk)
    box = image_box(page)
    assert box["width"] / box["height"] == pytest.approx(800 / 600, rel=0.01)

    # Draw a Face from (10%, 20%) to (40%, 60%); click it and drag its bottom-right corner out to (50%, 70%).
    drag(page, at_fraction(box, 0.10, 0.20), at_fraction(box, 0.40, 0.60))
    assert "Face" in page.locator(".region.selected").inner_text()
    page.mouse.click(*at_fraction(box, 0.25, 0.40))
    page.wait_for_selector(".a9s-corner-handle-bottomright")
    drag(page, at_fraction(box, 0.40, 0.60), at_fraction(box, 0.50, 0.70))
    page.keyboard.press("Escape")
    # A Person box drawn with the Person key armed, relabelled to Face by key, then deleted: undoable steps.
    page.keyboard.press("2")
    drag(page, at_fraction(box, 0.60, 0.10), at_fraction(box, 0.90, 0.90))
    assert [text.split("\n")[1] for text in page.locator(".region").all_inner_texts()] == ["Face", "Person"]
    page.keyboard.press("1")
    assert "Face" in page.locator(".region.selected").inner_text()
    page.keyboard.press("+")
    assert page.locator(".zoom-level").inner_text() != f"{round(box['width'] / 800 * 100)}%"
    page.keyboard.press("0")
    screenshot(page, "labeling-image")
    page.keyboard.press("Delete")
    assert page.locator(".region").count() == 1
    page.keyboard.press("Enter")
    wait_for_task(page, second.pk)
    wait_until_saved(page)

    (annotation,) = annotations_of(annotator, image_project)
    (item,) = annotation.result
    assert item["from_name"] == "box" and item["type"] == "rectanglelabels"
    assert item["value"]["rectanglelabels"] == ["Face"]
    assert (item["original_width"], item["original_height"]) == (800, 600)
    tolerance = 1.0  # percent: a pixel or two of mouse rounding on a ~900 px wide image
    assert item["value"]["x"] == pytest.approx(10, abs=tolerance)
    assert item["value"]["y"] == pytest.approx(20, abs=tolerance)
    assert item["value"]["width"] == pytest.approx(40, abs=tolerance)
    assert item["value"]["height"] == pytest.approx(50, abs=tolerance)
    assert page.js_errors == []


def test_zoom_and_pan_a_large_image_and_draw_where_the_pointer_is(live_server, signed_in, image_project, annotator):
    (task,) = import_images(image_project, (2400, 1800))
    page = open_labeling(signed_in(annotator), live_server, image_project)
    fit = image_box(page)
    for _ in range(3):
        page.keyboard.press("+")
    zoomed = image_box(page)
    assert zoomed["width"] == pytest.approx(fit["width"] * 1.25 ** 3, rel=0.02)
    viewport = page.locator(".image-viewport").bounding_box()
    # Pan: hold Space and drag the image 200 px to the left.
    page.keyboard.down(" ")
    drag(page, (viewport["x"] + 600, viewport["y"] + 300), (viewport["x"] + 400, viewport["y"] + 300))
    page.keyboard.up(" ")
    panned = image_box(page)
    assert panned["x"] == pytest.approx(zoomed["x"] - 200, abs=3)
    # Ctrl+wheel zooms in around the pointer: the image point under it stays put.
    pointer = (viewport["x"] + 300, viewport["y"] + 300)
    under = ((pointer[0] - panned["x"]) / panned["width"], (pointer[1] - panned["y"]) / panned["height"])
    page.mouse.move(*pointer)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    page.wait_for_function(f"() => document.querySelector('img.task-image').getBoundingClientRect().width > {panned['width'] + 10}")
    wheeled = image_box(page)
    assert wheeled["x"] + under[0] * wheeled["width"] == pytest.approx(pointer[0], abs=3)
    assert wheeled["y"] + under[1] * wheeled["height"] == pytest.approx(pointer[1], abs=3)

    # A box drawn over what is on screen lands on those image pixels.
    image = image_box(page)
    start = (viewport["x"] + 200, viewport["y"] + 150)
    end = (viewport["x"] + 500, viewport["y"] + 400)
    drag(page, start, end)
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-mode=done]")
    wait_until_saved(page)

    (annotation,) = annotations_of(annotator, image_project)
    value = annotation.result[0]["value"]
    expected_x = (start[0] - image["x"]) / image["width"] * 100
    expected_width = (end[0] - start[0]) / image["width"] * 100
    assert value["x"] == pytest.approx(expected_x, abs=0.2)
    assert value["y"] == pytest.approx((start[1] - image["y"]) / image["height"] * 100, abs=0.2)
    assert value["width"] == pytest.approx(expected_width, abs=0.2)
    assert (annotation.result[0]["original_width"], annotation.result[0]["original_height"]) == (2400, 1800)
