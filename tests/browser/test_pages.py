"""Logging in and finding one's way to the labeling page."""
from projects import services
from tests.api_helpers import import_texts, submit
from tests.conftest import TEST_PASSWORD

from .helpers import shown_task


def test_new_annotator_logs_in_sees_progress_and_starts_with_enter(live_server, page, screenshot, text_project, annotator):
    services.update_project(project=text_project, changes={"instructions": "Pick the sentiment of each review."})
    first, second, third = import_texts(text_project, "Great.", "Bad.", "Fine.")
    submit(annotator, first)

    page.goto(f"{live_server.url}/projects/{text_project.pk}/label/")
    page.fill("#id_username", annotator.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-state=ready]")  # the login form sends them on to where they were going

    page.goto(f"{live_server.url}/")
    card = page.locator(f".project-card[data-project='{text_project.pk}']")
    assert "Reviews" in card.inner_text()
    assert card.locator(".progress").get_attribute("data-done") == "1"
    assert card.locator(".progress").get_attribute("data-remaining") == "2"

    screenshot(page, "home")
    card.click()
    assert "Pick the sentiment of each review." in page.locator(".instructions").inner_text()
    screenshot(page, "project")
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-state=ready]")
    # One of the two tasks the first visit held (the queue resumes held tasks; which one is its choice).
    assert shown_task(page) in {second.pk, third.pk}
    assert page.locator("#progress").get_attribute("data-done") == "1"


def test_outsider_gets_404_for_the_labeling_page(live_server, signed_in, text_project, outsider):
    page = signed_in(outsider)
    response = page.goto(f"{live_server.url}/projects/{text_project.pk}/label/")
    assert response.status == 404
