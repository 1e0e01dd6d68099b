"""The GenAI tags on the reviewer's page and the managers' quality page, in a real browser at 1440 and 390 px: a
<List> as response cards (title, id, body, the place each annotator ranked it and its stars), a <Paragraphs>
dialogue as bubbles by speaker with sanitised Markdown, and the quality page's per-control figures as text."""
import pytest

from projects import services
from projects.admin_access import grant_manager_admin
from projects.jobs import create_job
from projects.models import Job, ReviewStatus, Role, Task
from quality import recompute
from tests.api_helpers import import_tasks, submit

CONFIG = """<View>
  <Paragraphs name="chat" value="$dialogue" layout="dialogue" nameKey="role" textKey="content"/>
  <List name="responses" value="$responses"/>
  <Ranker name="rank" toName="responses"/>
  <Rating name="score" toName="responses" perItem="true" maxRating="5"/>
</View>"""
DIALOGUE = [{"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "How do I reverse a list? <script>window.__xss = 1</script>"},
            {"role": "assistant", "content": "Use **slicing**:\n\n```python\nxs[::-1]\n```"},
            {"role": "user", "content": "And in place?"}]
RESPONSES = [{"id": "r1", "title": "model-x", "body": "Call xs.reverse(); it returns None."},
             {"id": "r2", "title": "model-y", "body": "xs = xs[::-1] makes a new list, which is not in place at all, "
                                                        "so a long body like this one wraps inside its card."},
             {"id": "r3", "body": "reversed(xs) gives an iterator."}]


def ranking(*ids: str) -> dict:
    return {"from_name": "rank", "to_name": "responses", "type": "ranker", "value": {"ranker": {"rank": list(ids)}}}


def stars(item: str, rating: int) -> dict:
    return {"from_name": "score", "to_name": "responses", "type": "rating", "value": {"rating": rating}, "item_index": item}


@pytest.fixture
def genai_review(manager, annotator, other_annotator, make_user):
    project = services.create_project(creator=manager, title="Assistant answers", label_config=CONFIG)
    project.overlap = 2
    project.save(update_fields=["overlap"])
    reviewer = make_user("genai_reviewer")
    for user, role in ((annotator, Role.ANNOTATOR), (other_annotator, Role.ANNOTATOR), (reviewer, Role.REVIEWER)):
        services.add_member(project=project, user=user, role=role)
    (task,) = import_tasks(project, [{"dialogue": DIALOGUE, "responses": RESPONSES}])
    submit(annotator, task, [ranking("r1", "r2", "r3"), stars("r1", 5), stars("r2", 2)])
    submit(other_annotator, task, [ranking("r3", "r2", "r1"), stars("r1", 1), stars("r3", 4)])
    job = create_job(kind=Job.Kind.CONSENSUS, project=project, created_by=manager)
    recompute.run_recompute(job, lambda done, total=None: None)  # the job's body, as the worker runs it
    Task.objects.filter(pk=task.pk).update(review_status=ReviewStatus.PENDING)
    return project, reviewer


@pytest.mark.parametrize("width", [1440, 390])
def test_the_review_page_shows_responses_as_cards_and_the_dialogue_as_bubbles(live_server, signed_in, screenshot, genai_review, width):
    project, reviewer = genai_review
    page = signed_in(reviewer)
    page.set_viewport_size({"width": width, "height": 1000})

    page.goto(f"{live_server.url}/projects/{project.pk}/review/")

    first, second, consensus = (page.locator("section.column").nth(index) for index in range(3))
    cards = first.locator(".review-cards .list-card")
    assert cards.count() == 3
    assert cards.nth(0).locator(".list-title").inner_text() == "model-x"
    assert cards.nth(2).locator(".list-title").inner_text() == "r3"  # no title: its id heads it
    assert cards.nth(0).locator(".list-body").inner_text() == "Call xs.reverse(); it returns None."
    assert first.locator(".list-rank").all_inner_texts() == ["1", "2", "3"]
    assert second.locator(".list-rank").all_inner_texts() == ["3", "2", "1"]  # in the task's order: r1 last
    assert first.locator(".list-card[data-item=r1] .list-stars").inner_text() == "5 ★"
    assert second.locator(".list-card[data-item=r2] .list-stars").count() == 0
    assert consensus.locator(".list-rank").count() == 3

    bubbles = first.locator(".review-dialogue .message")
    assert bubbles.count() == 4
    assert [bubbles.nth(index).get_attribute("class") for index in range(4)] == [
        "message message-system", "message message-user", "message message-assistant", "message message-user"]
    assert bubbles.nth(2).locator("strong").inner_text() == "slicing"
    assert bubbles.nth(2).locator("pre code").inner_text().strip() == "xs[::-1]"
    assert "<script>window.__xss = 1</script>" in bubbles.nth(1).inner_text()
    assert page.evaluate("() => window.__xss") is None and first.locator(".review-dialogue script").count() == 0
    user_box, column_box = bubbles.nth(1).bounding_box(), first.bounding_box()
    assert user_box["x"] + user_box["width"] == pytest.approx(column_box["x"] + column_box["width"], abs=40)  # right
    page_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert page_width <= width, f"the page is {page_width} px wide on a {width} px screen"
    screenshot(page, f"review-genai-{width}")
    page.screenshot(path=str(screenshot(page, f"review-genai-{width}")).replace(".png", "-full.png"), full_page=True)
    assert not page.js_errors


@pytest.mark.parametrize("width", [1440, 390])
def test_the_quality_page_shows_each_genai_control_as_text(live_server, signed_in, screenshot, genai_review, manager, width):
    project, _ = genai_review
    grant_manager_admin(manager)
    page = signed_in(manager)
    page.set_viewport_size({"width": width, "height": 1000})

    page.goto(f"{live_server.url}/admin/projects/project/{project.pk}/quality/")

    ranker, rating = page.locator("#control-rank"), page.locator("#control-score")
    assert "Kendall's W" in ranker.inner_text() and "<Ranker>" in ranker.inner_text()
    assert "Krippendorff's alpha" in rating.inner_text()
    assert rating.locator("tr", has_text="ratings").locator("td").inner_text() == "4, mean 3.00 of 5: 1 ★ 1, 2 ★ 1, 3 ★ 0, 4 ★ 1, 5 ★ 1"
    shown = page.locator("#content").inner_text()
    assert not any(marker in shown for marker in ("{'", "['", "None"))
    page_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert page_width <= width, f"the page is {page_width} px wide on a {width} px screen"
    page.screenshot(path=str(screenshot(page, f"admin-quality-genai-{width}")).replace(".png", "-full.png"), full_page=True)
    assert not page.js_errors
