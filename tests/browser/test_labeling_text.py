"""Text tasks: classification by keyboard only, spans selected with the mouse, predictions accepted."""
from projects.models import Annotation
from tests.api_helpers import import_tasks, import_texts

from .helpers import annotations_of, open_labeling, select_text, shown_task, wait_for_task, wait_until_saved


def test_classify_texts_with_the_keyboard_only(live_server, signed_in, screenshot, text_project, annotator):
    tasks = import_texts(text_project, "I love it.", "It broke on day two.", "It is blue.")
    page = open_labeling(signed_in(annotator), live_server, text_project)
    assert shown_task(page) == tasks[0].pk
    # Every choice shows its key: the config's own (Positive: p), defaults for the rest, unambiguous across controls.
    keys = dict(zip(page.locator(".choice .label-name").all_inner_texts(), page.locator(".choice kbd").all_inner_texts()))
    assert keys == {"Positive": "P", "Negative": "1", "Neutral": "2"}
    assert page.locator(".label-button kbd").all_inner_texts() == ["3", "4", "5"]
    screenshot(page, "labeling-text")
    page.keyboard.press("?")
    help_text = page.locator("#help").inner_text()
    assert all(words in help_text for words in ("Submit", "Skip", "Undo", "Redo", "Delete the selected region", "Positive", "PER"))
    screenshot(page, "labeling-help")
    page.keyboard.press("Escape")
    assert page.locator("#help").is_hidden()

    page.keyboard.press("p")
    assert page.locator(".choice[data-value=Positive]").get_attribute("aria-checked") == "true"
    page.keyboard.press("Enter")
    wait_for_task(page, tasks[1].pk)
    page.keyboard.press("1")
    page.keyboard.press("2")  # single choice: the second key replaces the first
    page.keyboard.press("Control+Enter")
    wait_for_task(page, tasks[2].pk)
    wait_until_saved(page)

    stored = annotations_of(annotator, text_project)
    assert [(a.task_id, a.result[0]["value"]["choices"]) for a in stored] == [(tasks[0].pk, ["Positive"]), (tasks[1].pk, ["Neutral"])]
    assert all(len(a.result) == 1 and a.lead_time > 0 and not a.was_cancelled for a in stored)
    assert page.js_errors == []


def test_select_spans_with_the_mouse_label_by_key_undo_and_delete(live_server, signed_in, screenshot, text_project, annotator):
    text = "Met Zoë 😀 in São Paulo 🎉 with ACME staff."
    (task,) = import_texts(text_project, text)
    page = open_labeling(signed_in(annotator), live_server, text_project)

    # Offsets the browser sees are UTF-16 (each emoji is two units); the stored ones must be Python's.
    units = lambda fragment: len(text[: text.index(fragment)].encode("utf-16-le")) // 2
    select_text(page, units("São Paulo"), units("São Paulo") + len("São Paulo"))
    page.keyboard.press("4")  # LOC
    select_text(page, units("ACME"), units("ACME") + 4)
    page.keyboard.press("5")  # ORG
    page.locator(".label-button[data-value=PER]").click()  # arm PER, then select: labelled on release
    select_text(page, units("Zoë"), units("Zoë") + 3)
    assert page.locator(".region").count() == 3
    screenshot(page, "labeling-text-spans")

    page.keyboard.press("Control+z")
    assert page.locator(".region").count() == 2
    page.keyboard.press("Control+Shift+Z")
    assert page.locator(".region").count() == 3
    page.locator(".span-chip[data-label=ORG]").click()
    page.keyboard.press("Delete")
    assert page.locator(".span-chip").count() == 2
    page.keyboard.press("ArrowDown")  # select a span with the keyboard, relabel it
    page.keyboard.press("ArrowDown")
    assert page.locator(".region.selected .region-label").inner_text() == "LOC"
    page.keyboard.press("3")
    page.keyboard.press("p")
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-mode=done]")
    wait_until_saved(page)

    (annotation,) = annotations_of(annotator, text_project)
    spans = sorted((item["value"] for item in annotation.result if item["type"] == "labels"), key=lambda value: value["start"])
    assert [(value["labels"], value["text"]) for value in spans] == [(["PER"], "Zoë"), (["PER"], "São Paulo")]
    for value in spans:
        assert text[value["start"]:value["end"]] == value["text"]
    assert {item["type"] for item in annotation.result} == {"labels", "choices"}


def test_accept_a_prediction_with_one_key(live_server, signed_in, screenshot, text_project, annotator):
    text = "Lisbon was lovely."
    predicted = [
        {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}},
        {"from_name": "entities", "to_name": "text", "type": "labels", "value": {"start": 0, "end": 6, "text": "Lisbon", "labels": ["LOC"]}},
    ]
    tasks = import_tasks(text_project, [
        {"data": {"text": text}, "predictions": [{"model_version": "old", "score": 0.2, "result": predicted[:1]},
                                                  {"model_version": "v2", "score": 0.91, "result": predicted}]},
        {"data": {"text": "Next one."}},
    ])
    page = open_labeling(signed_in(annotator), live_server, text_project)
    assert "2 suggestions from v2 · score 0.91" in page.locator("#suggestions").inner_text()
    assert page.locator(".region.suggested").count() == 1
    screenshot(page, "labeling-text-suggestions")
    page.keyboard.press("a")
    assert page.locator("#suggestions").is_hidden()
    assert page.locator(".region.suggested").count() == 0
    page.keyboard.press("Enter")
    wait_for_task(page, tasks[1].pk)
    wait_until_saved(page)

    (annotation,) = annotations_of(annotator, text_project)
    without_ids = [{key: value for key, value in item.items() if key != "id"} for item in annotation.result]
    assert sorted(without_ids, key=lambda item: item["type"]) == sorted(predicted, key=lambda item: item["type"])
    assert Annotation.objects.count() == 1
    # The page named the prediction it started from, so the effort saved is on record.
    assert (annotation.prediction_model_version, annotation.accepted_unchanged, annotation.prediction_changed) == ("v2", True, 0.0)


def test_multiple_choices_and_a_text_area_with_keys_off_while_typing(live_server, signed_in, manager, annotator):
    from projects import services
    from projects.models import Role

    config = """<View><Text name="text" value="$text"/>
      <Choices name="topics" toName="text" choice="multiple"><Choice value="Price"/><Choice value="Quality"/><Choice value="Delivery"/></Choices>
      <TextArea name="note" toName="text"/></View>"""
    project = services.create_project(creator=manager, title="Topics", label_config=config)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    first, second = import_texts(project, "Cheap but it broke.", "Fine.")
    page = open_labeling(signed_in(annotator), live_server, project)

    page.keyboard.press("1")
    page.keyboard.press("2")
    page.keyboard.press("3")
    page.keyboard.press("3")  # multiple choice: a second press takes it back
    page.locator("textarea.textarea").click()
    page.keyboard.type("says: skip and 1 are words here")  # no shortcut fires while typing
    page.keyboard.press("Escape")
    assert page.locator(".choice[aria-checked=true]").count() == 2
    page.keyboard.press("Control+z")  # undo the note (typed in one burst), not the choices
    assert page.locator("textarea.textarea").input_value() == ""
    page.keyboard.press("Control+Shift+z")
    page.locator("textarea.textarea").click()
    page.keyboard.press("Control+Enter")  # submits from inside the field
    wait_for_task(page, second.pk)
    wait_until_saved(page)

    (annotation,) = annotations_of(annotator, project)
    values = {item["from_name"]: item["value"] for item in annotation.result}
    assert values == {"topics": {"choices": ["Price", "Quality"]}, "note": {"text": ["says: skip and 1 are words here"]}}
