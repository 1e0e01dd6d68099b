"""<Ranker> and <Rating> on the labeling page: keyboard only first, then the mouse (drag, ▲/▼, stars), and the
1440 px and 390 px layouts."""
import pytest

from projects import services
from projects.models import Role
from tests.api_helpers import import_tasks

from .helpers import annotations_of, open_labeling, wait_for_task, wait_until_saved

LONG = "A long answer that goes on. " * 60
RESPONSES = [{"id": "r1", "title": "model-x", "body": "Paris is the capital of France."},
             {"id": "r2", "title": "model-y", "body": LONG},
             {"id": "r3", "title": "model-z", "body": "I think it is Lyon."}]
RANKER = '<View><List name="responses" value="$responses"/><Ranker name="rank" toName="responses" required="true"/></View>'
BUCKETS = """<View><List name="responses" value="$responses"/><Ranker name="rank" toName="responses">
  <Bucket name="good" title="Good answers"/><Bucket name="bad" title="Bad answers"/></Ranker></View>"""
RATING = """<View><List name="responses" value="$responses"/>
  <Rating name="score" toName="responses" perItem="true" maxRating="5" required="true"/></View>"""
WHOLE = '<View><Text name="answer" value="$answer"/><Rating name="quality" toName="answer" maxRating="10"/></View>'


def project_for(manager, annotator, config: str, tasks: list[dict]):
    project = services.create_project(creator=manager, title="Responses", label_config=config)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    return project, import_tasks(project, tasks)


def shown_order(page) -> list[str]:
    return page.eval_on_selector_all(".list-card", "cards => cards.map(card => card.dataset.item)")


def results_of(annotator, project) -> list[list[dict]]:
    return [annotation.result for annotation in annotations_of(annotator, project)]


def test_ranking_by_keyboard_then_by_drag(live_server, signed_in, manager, annotator, screenshot):
    project, tasks = project_for(manager, annotator, RANKER, [{"responses": RESPONSES}] * 2)
    page = open_labeling(signed_in(annotator), live_server, project)
    keys = page.locator(".panel[data-control=rank] .ranker-keys").inner_text()
    assert "Shift+↑" in keys and "K" in keys and "J" in keys and "O" in keys
    assert page.locator(".ranker-status").inner_text() == "Not ranked yet"
    page.keyboard.press("Enter")  # required, untouched: refused, and the message says how to answer
    assert "press O to keep this order" in page.locator(".panel[data-control=rank] .panel-error").inner_text()

    assert page.evaluate("document.activeElement.dataset.item") == "r1"  # the message sent the focus to the list
    page.keyboard.press("j")
    assert shown_order(page) == ["r2", "r1", "r3"]
    page.keyboard.press("Shift+ArrowDown")
    assert shown_order(page) == ["r2", "r3", "r1"]
    page.keyboard.press("ArrowUp")  # focus moves to r3, which then goes to the top
    page.keyboard.press("k")
    assert shown_order(page) == ["r3", "r2", "r1"]
    assert page.evaluate("document.activeElement.dataset.item") == "r3"
    assert page.locator(".ranker-status").inner_text() == "Ranked"
    assert page.locator(".ranker-order").inner_text().split("\n") == ["model-z", "model-y", "model-x"]
    page.keyboard.press("?")
    assert "move the focused response up" in page.locator("#help-body").inner_text().lower()
    page.keyboard.press("?")
    page.keyboard.press("Enter")
    wait_for_task(page, tasks[1].pk)

    # The mouse: drag r3 above r1, then ▲ on r2.
    page.drag_and_drop(".list-card[data-item=r3] .list-card-head", ".list-card[data-item=r1] .list-card-head",
                       target_position={"x": 20, "y": 2})
    assert shown_order(page) == ["r3", "r1", "r2"]
    page.click(".list-card[data-item=r2] .list-move[aria-label^='Move up']")
    assert shown_order(page) == ["r3", "r2", "r1"]
    body = page.locator(".list-card[data-item=r2] .list-body")
    assert body.evaluate("el => el.scrollHeight > el.clientHeight")  # a long body scrolls inside its card
    screenshot(page, "ranker-1440")
    page.keyboard.press("Enter")
    wait_until_saved(page)
    rankings = [item["value"] for result in results_of(annotator, project) for item in result]
    assert rankings == [{"ranker": {"rank": ["r3", "r2", "r1"]}}, {"ranker": {"rank": ["r3", "r2", "r1"]}}]
    assert not page.js_errors


def test_buckets_by_key_then_by_drag(live_server, signed_in, manager, annotator, screenshot):
    project, _ = project_for(manager, annotator, BUCKETS, [{"responses": RESPONSES}])
    page = open_labeling(signed_in(annotator), live_server, project)
    good_key = page.locator(".list-section[data-section=good] .list-section-title kbd").inner_text()
    bad_key = page.locator(".list-section[data-section=bad] .list-section-title kbd").inner_text()
    page.keyboard.press("ArrowDown")
    page.keyboard.press(good_key.lower())  # r1 into "Good answers"
    page.locator(".list-card[data-item=r3]").focus()
    page.keyboard.press(bad_key.lower())
    assert page.locator(".ranker-status").inner_text() == "1 not placed yet"
    page.drag_and_drop(".list-card[data-item=r2] .list-card-head", ".list-section[data-section=bad] .list-section-body")
    assert page.locator(".ranker-status").inner_text() == "Ranked"
    screenshot(page, "ranker-buckets-1440")
    page.keyboard.press("Enter")
    wait_until_saved(page)
    [[item]] = results_of(annotator, project)
    assert item["value"]["ranker"]["good"] == ["r1"] and sorted(item["value"]["ranker"]["bad"]) == ["r2", "r3"]
    assert not page.js_errors


def test_rating_each_response_by_number_keys_then_by_click(live_server, signed_in, manager, annotator, screenshot):
    project, tasks = project_for(manager, annotator, RATING, [{"responses": RESPONSES}] * 2)
    page = open_labeling(signed_in(annotator), live_server, project)
    assert "rate the focused response" in page.locator(".panel[data-control=score] .rating-keys").inner_text()
    page.keyboard.press("4")  # nothing focused: the first response not yet rated
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # r2
    page.keyboard.press("2")
    page.keyboard.press("Enter")  # r3 is not rated yet: refused
    assert "rate every response" in page.locator(".panel[data-control=score] .panel-error").inner_text()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("5")
    values = page.eval_on_selector_all(".rating-value", "outputs => outputs.map(output => output.textContent)")
    assert values == ["4/5", "2/5", "5/5"]
    page.keyboard.press("Enter")
    wait_for_task(page, tasks[1].pk)

    for item, stars in (("r1", 1), ("r2", 3), ("r3", 3), ("r2", 5)):
        page.click(f".rating-row[data-item={item}] .star[data-stars='{stars}']")
    screenshot(page, "rating-per-item-1440")
    page.keyboard.press("Enter")
    wait_until_saved(page)
    first, second = results_of(annotator, project)
    assert {item["item_index"]: item["value"]["rating"] for item in first} == {"r1": 4, "r2": 2, "r3": 5}
    assert {item["item_index"]: item["value"]["rating"] for item in second} == {"r1": 1, "r2": 5, "r3": 3}
    assert not page.js_errors


def test_rating_a_whole_response_with_ten_stars(live_server, signed_in, manager, annotator):
    project, _ = project_for(manager, annotator, WHOLE, [{"answer": "Paris."}])
    page = open_labeling(signed_in(annotator), live_server, project)
    page.keyboard.press("0")  # 10 of 10
    assert page.locator(".rating-value").inner_text() == "10/10"
    page.keyboard.press("7")
    page.keyboard.press("Enter")
    wait_until_saved(page)
    [[item]] = results_of(annotator, project)
    assert item == {**item, "from_name": "quality", "to_name": "answer", "type": "rating", "value": {"rating": 7}}
    assert "item_index" not in item


@pytest.mark.parametrize("config", [RANKER, RATING])
def test_ranker_and_rating_fit_a_phone(live_server, phone, manager, annotator, screenshot, config):
    project, _ = project_for(manager, annotator, config, [{"responses": RESPONSES}])
    page = open_labeling(phone(annotator), live_server, project)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    name = "ranker" if "Ranker" in config else "rating"
    if name == "ranker":
        page.tap(".list-card[data-item=r3] .list-move[aria-label^='Move up']")
        assert shown_order(page) == ["r1", "r3", "r2"]
    else:
        page.tap(".rating-row[data-item=r2] .star[data-stars='3']")
        assert page.locator(".rating-row[data-item=r2] .rating-value").inner_text() == "3/5"
    screenshot(page, f"{name}-390")
    page.locator(".panel[data-control]").first.scroll_into_view_if_needed()
    screenshot(page, f"{name}-390-panel")
    assert not page.js_errors
