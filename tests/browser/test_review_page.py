"""A reviewer settles a doubtful task in the browser: every annotation side by side, one key per decision."""
from projects.models import ReviewStatus, Task
from tests.api_helpers import import_texts, sentiment, span, submit
from tests.conftest import client_for

TEXT = "Alice flew to Paris"


def test_a_reviewer_compares_the_annotations_and_accepts_one_with_its_key(live_server, signed_in, screenshot, text_project, annotator, other_annotator, reviewer):
    text_project.overlap = 2
    text_project.save()
    (task,) = import_texts(text_project, TEXT)
    submit(annotator, task, [sentiment("Positive"), span(TEXT, 0, 5, "PER")])
    theirs = submit(other_annotator, task, [sentiment("Negative"), span(TEXT, 14, 19, "LOC")]).json()["id"]
    Task.objects.filter(pk=task.pk).update(
        consensus_result=[sentiment("Positive")], agreement=0.5, consensus_method="majority",
        consensus_at="2026-11-23T10:00Z", review_status=ReviewStatus.PENDING,
    )
    page = signed_in(reviewer)

    page.goto(f"{live_server.url}/projects/{text_project.pk}/review/")

    columns = page.locator("section.column")
    assert columns.count() == 3  # two annotators and the consensus
    assert "Positive" in columns.nth(0).inner_text() and "Negative" in columns.nth(1).inner_text()
    assert page.locator("section.column mark", has_text="Paris").count() == 1
    screenshot(page, "review")
    page.keyboard.press("2")  # accept the second annotator's work
    page.wait_for_selector("text=Nothing waits for review")

    body = client_for(reviewer).get(f"/api/tasks/{task.pk}/").json()
    assert body["review"]["status"] == "accepted" and body["review"]["reviewed_by"] == reviewer.pk
    accepted = client_for(reviewer).get(f"/api/annotations/{theirs}/").json()["result"]
    assert body["review"]["result"] == accepted
    assert not page.js_errors
