"""An LLM judge's answer in the browser: shown as a suggestion the annotator confirms or changes (on a page the
server swapped, it still marks the response the judge preferred), and not at all when the project judges blind."""
import pytest

from controls.pairwise import shows_swapped
from projects import services
from projects.models import Role
from tests.api_helpers import import_tasks

from .helpers import annotations_of, open_labeling, shown_task, wait_for_task, wait_until_saved

CONFIG = """<View><Text name="a" value="$response_a"/><Text name="b" value="$response_b"/>
  <Pairwise name="pw" toName="a,b" allowTie="true"/></View>"""


def judged_tasks(project, count: int = 8):
    judged = {"model_version": "llm_judge:judge-1:abc", "score": 1.0,
              "result": [{"from_name": "pw", "to_name": "a,b", "type": "pairwise", "value": {"selected": "left"}}]}
    return import_tasks(project, [{"data": {"response_a": f"Paris {index}", "response_b": f"Lyon {index}"},
                                   "predictions": [judged]} for index in range(count)])


@pytest.fixture
def judged_project(manager, annotator):
    project = services.create_project(creator=manager, title="Judged", label_config=CONFIG)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    return project


def test_the_judges_choice_is_preselected_and_confirmed_with_enter(live_server, signed_in, screenshot, judged_project, annotator):
    tasks = judged_tasks(judged_project)
    swapped = [task for task in tasks if shows_swapped(task.pk, annotator.pk)]
    page = open_labeling(signed_in(annotator), live_server, judged_project)
    for task in tasks:  # answer the tasks before the first swapped one by accepting the judge's choice
        assert shown_task(page) == task.pk
        chosen = page.locator(".pairwise-side.chosen")
        assert chosen.get_attribute("data-side") == "left"  # the task's a, wherever it is on screen
        on_the_left = page.locator(".pairwise-side").first.get_attribute("data-side") == "left"
        assert on_the_left != shows_swapped(task.pk, annotator.pk)
        if task == swapped[0]:
            screenshot(page, "labeling-judge-suggestion-swapped")
        page.keyboard.press("Enter")
        if task == swapped[0]:
            wait_until_saved(page)
            break
        wait_for_task(page, tasks[tasks.index(task) + 1].pk)

    answered = annotations_of(annotator, judged_project)
    assert answered and all(annotation.result[0]["value"]["selected"] == "left" for annotation in answered)
    assert all(annotation.prediction_id is not None for annotation in answered)  # they started from the judge


def test_a_blind_judging_project_shows_no_suggestion(live_server, signed_in, judged_project, annotator, api, manager):
    api(manager).patch(f"/api/projects/{judged_project.pk}/", {"show_collab_predictions": False}, format="json")
    judged_tasks(judged_project, 2)
    page = open_labeling(signed_in(annotator), live_server, judged_project)

    assert page.locator(".pairwise-side").count() == 2
    assert page.locator(".pairwise-side.chosen").count() == 0
    page.keyboard.press("Enter")  # nothing chosen: refused, as for any required comparison
    assert "pw is required" in page.locator(".panel[data-control=pw] .panel-error").inner_text()
