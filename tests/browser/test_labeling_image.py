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
