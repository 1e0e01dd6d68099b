"""What a key, a required control and a skip do on the labeling page when a model pre-filled the answer."""
from projects import services
from projects.models import Role
from tests.api_helpers import import_tasks, import_texts, sentiment

from .helpers import annotations_of, at_fraction, drag, image_box, import_images, open_labeling, wait_for_task, wait_until_saved


def predicted(text: str, choice: str = "Positive") -> dict:
    return {"data": {"text": text}, "predictions": [{"model_version": "m1", "score": 0.8, "result": [sentiment(choice)]}]}


def test_the_key_of_a_prefilled_choice_keeps_it_and_enter_stores_it(live_server, signed_in, text_project, annotator):
    first, second = import_tasks(text_project, [predicted("Lovely."), {"data": {"text": "Next."}}])
    page = open_labeling(signed_in(annotator), live_server, text_project)
    positive = page.locator(".choice[data-value=Positive]")
    assert positive.get_attribute("aria-checked") == "true" and "suggested" in positive.get_attribute("class")

    page.keyboard.press("p")  # the annotator agrees with the model: the choice stays, and is now theirs
    assert positive.get_attribute("aria-checked") == "true" and "suggested" not in positive.get_attribute("class")
    page.keyboard.press("p")  # a second press of a required single choice does not empty it either
    assert positive.get_attribute("aria-checked") == "true"
    page.keyboard.press("Enter")
    wait_for_task(page, second.pk)
    wait_until_saved(page)

    (annotation,) = annotations_of(annotator, text_project)
    assert [item["value"] for item in annotation.result] == [{"choices": ["Positive"]}]
    assert annotation.prediction_model_version == "m1" and annotation.accepted_unchanged is True
    assert page.js_errors == []


def test_a_required_choice_left_empty_refuses_the_submit_and_names_it(live_server, signed_in, screenshot, text_project, annotator):
    first, second = import_texts(text_project, "No answer yet.", "Next.")
    page = open_labeling(signed_in(annotator), live_server, text_project)
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" and "/annotations/" in request.url else None)

    page.keyboard.press("Enter")  # single-choice Choices with no required attribute: required
    message = page.locator(".panel[data-control=sentiment] .panel-error")
    message.wait_for()
    assert "sentiment is required" in message.inner_text()
    assert page.evaluate("() => document.activeElement.closest('.panel')?.dataset.control") == "sentiment"
    screenshot(page, "labeling-required")
    page.locator("#btn-submit").click()  # the button is refused the same way
    assert page.get_attribute("body", "data-task") == str(first.pk) and posts == []

    page.keyboard.press("2")  # Neutral: the message goes as soon as it is answered
    assert message.count() == 0
    page.keyboard.press("Enter")
    wait_for_task(page, second.pk)
    wait_until_saved(page)
    assert [a.result[0]["value"]["choices"] for a in annotations_of(annotator, text_project)] == [["Neutral"]]


def test_required_true_and_false_from_the_config_are_honoured(live_server, signed_in, manager, annotator):
    config = """<View><Text name="text" value="$text"/>
      <Choices name="topic" toName="text" required="false"><Choice value="Price"/><Choice value="Quality"/></Choices>
      <TextArea name="note" toName="text" required="true"/></View>"""
    project = services.create_project(creator=manager, title="Notes", label_config=config)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    first, second = import_texts(project, "Cheap.", "Next.")
    page = open_labeling(signed_in(annotator), live_server, project)
    assert "required" in page.locator(".panel[data-control=note] .panel-hint").inner_text()
    assert "required" not in page.locator(".panel[data-control=topic] .panel-hint").inner_text()

    page.keyboard.press("Enter")
    page.locator(".panel[data-control=note] .panel-error", has_text="note is required").wait_for()
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "note"  # the focus is in the field
    page.keyboard.type("too cheap to last")
    page.keyboard.press("Control+Enter")  # the optional single choice stays empty, and that is fine
    wait_for_task(page, second.pk)
    wait_until_saved(page)
    (annotation,) = annotations_of(annotator, project)
    assert annotation.result[0]["from_name"] == "note" and len(annotation.result) == 1


def test_a_required_box_control_asks_for_a_box_before_the_submit(live_server, signed_in, manager, annotator):
    config = """<View><Image name="image" value="$image"/>
      <RectangleLabels name="box" toName="image" required="true"><Label value="Face"/></RectangleLabels></View>"""
    project = services.create_project(creator=manager, title="Boxes", label_config=config)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    first, second = import_images(project, (800, 600), (800, 600))
    page = open_labeling(signed_in(annotator), live_server, project)
    wait_for_task(page, first.pk)

    page.keyboard.press("Enter")
    page.locator(".panel[data-control=box] .panel-error", has_text="box is required: draw at least one box").wait_for()
    assert page.evaluate("() => document.activeElement.dataset.value") == "Face"  # the palette's first label
    drag(page, at_fraction(image_box(page), 0.2, 0.2), at_fraction(image_box(page), 0.5, 0.5))
    assert page.locator(".panel-error").count() == 0
    page.keyboard.press("Enter")
    wait_for_task(page, second.pk)
    wait_until_saved(page)
    (annotation,) = annotations_of(annotator, project)
    assert annotation.result[0]["value"]["rectanglelabels"] == ["Face"]


def test_a_skip_stores_no_suggestion_counts_in_the_top_bar_and_shows_as_skipped_later(live_server, signed_in, screenshot, text_project, annotator):
    first, second, third = import_tasks(text_project, [predicted("Unsure.", "Negative"), {"data": {"text": "Two."}}, {"data": {"text": "Three."}}])
    page = open_labeling(signed_in(annotator), live_server, text_project)
    assert page.locator(".choice[data-value=Negative]").get_attribute("aria-checked") == "true"  # pre-filled
    page.keyboard.press("s")
    page.wait_for_selector("#skip-dialog[open]")
    page.keyboard.type("sarcasm?")
    page.keyboard.press("Enter")
    wait_for_task(page, second.pk)
    progress = page.locator("#progress")
    assert progress.get_attribute("data-skipped") == "1" and "1 skipped" in page.locator("#progress-text").inner_text()
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    wait_for_task(page, third.pk)
    wait_until_saved(page)

    skipped, done = annotations_of(annotator, text_project)
    assert (skipped.task_id, skipped.was_cancelled, skipped.cancel_reason) == (first.pk, True, "sarcasm?")
    assert skipped.result == [] and skipped.prediction_id is None  # the model's answer was never the annotator's
    page.wait_for_function("() => document.querySelector('#progress-text').textContent.startsWith('1 done · 1 skipped')")

    page.keyboard.press("[")
    wait_for_task(page, second.pk)
    assert page.locator("#skipped-pill").is_hidden()
    page.keyboard.press("[")
    wait_for_task(page, first.pk)
    assert page.locator("#skipped-pill").inner_text() == "Skipped: sarcasm?"
    assert page.get_attribute("body", "data-skipped") == "true"
    # The skip answered nothing, so the model's suggestion is offered again, as it was in the queue.
    assert "suggested" in page.locator(".choice[data-value=Negative]").get_attribute("class")
    screenshot(page, "labeling-skipped-earlier")
    page.keyboard.press("]")
    wait_for_task(page, second.pk)
    assert page.locator("#skipped-pill").is_hidden()
    assert page.js_errors == []
