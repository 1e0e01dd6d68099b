"""The leaderboard page of a project too big to score while the page loads: it says there is no board yet, its
Recompute button queues the job on a real worker, the page follows the job and then shows the snapshot's board
with when it was computed."""
import pytest

from projects.admin_access import grant_manager_admin
from tests.test_leaderboard_api import arena, judges  # noqa: F401, F811 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")  # jobs report through the `jobs` alias


@pytest.mark.parametrize("width", [1440, 390])
def test_recompute_queues_the_job_and_the_page_then_shows_its_snapshot(
        worker, settings, signed_in, live_server, manager, arena, screenshot, width):
    settings.LABELER_LEADERBOARD_INLINE_MAX = 2
    grant_manager_admin(manager)
    page = signed_in(manager)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/admin/projects/project/{arena.pk}/leaderboard/?source=consensus&bootstrap=40")

    assert "no consensus leaderboard yet" in page.locator("#leaderboard-job").inner_text()
    assert page.locator("#leaderboard").count() == 0
    page.get_by_role("button", name="Recompute").click()
    page.locator(".messagelist", has_text="Computing the leaderboard in the background").wait_for()
    page.locator("#snapshot-facts").wait_for(timeout=60_000)  # the page reloads itself while the job runs

    assert "by job" in page.locator("#snapshot-facts").inner_text()
    assert page.locator("#leaderboard tbody tr td:nth-child(2)").all_inner_texts() == ["alpha", "beta", "gamma"]
    assert page.locator(".board-facts", has_text="with 95% intervals from 40 bootstrap rounds").count() == 1
    page_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert page_width <= width, f"the page is {page_width} px wide on a {width} px screen"
    screenshot(page, f"admin-leaderboard-job-{width}")
