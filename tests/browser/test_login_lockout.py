"""The login page after too many wrong passwords: a whole 429 page that says why and when to try again, and
the right password no longer gets in; at desktop width and at 390 px."""
import pytest

from tests.conftest import TEST_PASSWORD


@pytest.mark.parametrize("width", [1440, 390])
def test_too_many_wrong_passwords_lock_the_login_page(live_server, page, screenshot, annotator, settings, width):
    settings.AXES_FAILURE_LIMIT = 3
    page.set_viewport_size({"width": width, "height": 800})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def log_in(password: str):
        page.fill("#id_username", annotator.username)
        page.fill("#id_password", password)
        with page.expect_navigation() as navigation:
            page.click("button[type=submit]")
        return navigation.value

    page.goto(f"{live_server.url}/login/")
    for attempt in range(2):
        assert log_in(f"wrong-{attempt}").status == 200
        assert "didn't match" in page.locator("[role=alert]").inner_text()
    assert log_in("wrong-again").status == 429
    page.goto(f"{live_server.url}/login/")
    locked = log_in(TEST_PASSWORD)

    assert locked.status == 429
    assert page.locator("h1").inner_text() == "Too many sign-in attempts"
    assert "Try again in 15 minutes." in page.locator("[role=alert]").inner_text()
    back = page.locator("a.btn", has_text="Back to the login page")
    assert back.is_visible() and back.get_attribute("href") == "/login/"
    box = back.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width  # on screen at 390 px too
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert errors == []
    screenshot(page, f"login-locked-{width}")
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/login/")  # not signed in
