"""The managers' model leaderboard page in the admin: the models in score order with their intervals, the chart,
the win-rate heat table, the source and bootstrap form, the empty states, and who may open it."""
import re

import pytest

from projects import services
from quality.leaderboard_display import interval_chart, nice_step
from tests.test_admin import page_text
from tests.test_leaderboard_api import PAIRWISE_CONFIG, arena, judges  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def board_page(client, project, *, follow: bool = False, **params):
    return client.get(f"/admin/projects/project/{project.pk}/leaderboard/", params, follow=follow)


def table_rows(html: str) -> list[list[str]]:
    table = html.split('<table id="leaderboard">')[1].split("</table>")[0]
    body = table.split("<tbody>")[1]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)]


def people_number(text: str) -> int:
    return int(text.replace("\u2212", "-"))


def test_the_page_lists_the_models_in_score_order_with_their_intervals(admin_client, arena):
    response = board_page(admin_client, arena)

    assert response.status_code == 200
    rows = table_rows(page_text(response))
    assert [row[1] for row in rows] == ["alpha", "beta", "gamma"]
    assert [row[0] for row in rows] == ["1", "2", "3"]
    for row in rows:
        score, (low, high) = people_number(row[2]), map(people_number, row[3].split(" to "))
        assert low <= score <= high
    assert rows[0][4:9] == ["3", "0", "1", "87.5%", "4"]  # wins, losses, ties, win rate, judgments
    assert rows[0][9] == "5.00 ± 0.00 n = 3" and rows[2][9] == "3.00 n = 1"


def test_the_page_draws_the_chart_and_the_heat_table_with_people_numbers(admin_client, arena):
    text = page_text(board_page(admin_client, arena))

    chart = text.split('<svg id="interval-chart"')[1].split("</svg>")[0]
    assert chart.count('class="dot"') == 3 and chart.count('class="interval"') == 3
    assert "alpha" in chart and "(" in chart
    heat = text.split('<table class="heat" id="win-rates">')[1].split("</table>")[0]
    assert "83%" in heat and "100%" in heat and "0%" in heat and "never met" not in heat
    assert not re.search(r">\s*-?\d+\.\d{5,}", text), "a raw float reached the page"
    assert "None" not in re.sub(r"<[^>]+>", "", text)


def test_the_form_switches_the_source_and_the_bootstrap_rounds(admin_client, arena):
    text = page_text(board_page(admin_client, arena, source="annotations", bootstrap="0"))

    assert "18 battles" in text and "every submitted annotation" in text and "no intervals" in text
    rows = table_rows(text)
    assert rows[0][3] == "–" and rows[0][8] == "12"
    assert 'class="interval"' not in text


def test_bad_settings_are_refused_naming_the_field(admin_client, arena):
    response = board_page(admin_client, arena, bootstrap="5000")

    assert response.status_code == 400
    assert "less than or equal to 1000" in page_text(response) and '<table id="leaderboard">' not in page_text(response)


def test_a_project_without_judgments_says_so(admin_client, manager):
    project = services.create_project(creator=manager, title="Fresh arena", label_config=PAIRWISE_CONFIG)

    text = page_text(board_page(admin_client, project))

    assert "No judgments yet" in text and "<table id=\"leaderboard\">" not in text and "interval-chart" not in text


def test_a_project_that_judges_no_models_says_so_and_has_no_link(admin_client, text_project):
    text = page_text(board_page(admin_client, text_project))
    assert "no Pairwise, Ranker or Rating control" in text

    change = page_text(admin_client.get(f"/admin/projects/project/{text_project.pk}/change/"))
    assert "Agreement and annotators…" in change and "Model leaderboard…" not in change


def test_the_project_page_links_the_leaderboard_when_its_config_judges_models(admin_client, arena):
    change = page_text(admin_client.get(f"/admin/projects/project/{arena.pk}/change/"))

    assert f'href="/admin/projects/project/{arena.pk}/leaderboard/">Model leaderboard…' in change


def test_a_manager_cannot_open_another_managers_leaderboard(admin_client, other_managers_project):
    response = board_page(admin_client, other_managers_project, follow=True)

    assert "No such project among those you manage" in page_text(response)


def test_the_chart_axis_has_round_ticks_around_every_interval():
    board = {"models": [
        {"model": "a", "score": 1043.2, "ci_low": 1012.7, "ci_high": 1078.1},
        {"model": "b", "score": 956.8, "ci_low": 921.0, "ci_high": 990.4},
        {"model": "c", "score": None, "ci_low": None, "ci_high": None},
    ]}

    chart = interval_chart(board)

    assert [row.model for row in chart.rows] == ["a", "b"]
    assert [tick.label for tick in chart.ticks] == ["900", "950", "1000", "1050", "1100"]
    assert chart.ticks[0].x <= chart.rows[1].low_x < chart.rows[1].dot_x < chart.rows[1].high_x <= chart.ticks[-1].x
    assert chart.rows[0].caption == "1043 (1013 to 1078)" and chart.mean_x == chart.ticks[2].x
    assert nice_step(7) == 2 and nice_step(0.3) == 0.1
