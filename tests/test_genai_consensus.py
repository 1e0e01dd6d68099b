"""Consensus QA for <Pairwise>, <Ranker> and <Rating> through a real Celery worker: Dawid-Skene over left/right/tie
with annotator reliability, disagreements routed to one more annotator or to review as for choices, and what the
project's agreement endpoint says of each control."""
import pytest
from django.utils import timezone

from controls.pairwise import shows_swapped
from projects import services
from projects.models import Role, Task
from quality.models import AnnotatorScore
from tests.api_helpers import import_tasks, submit
from tests.conftest import client_for, wait_for_job
from tests.waiting import wait_until

pytestmark = [pytest.mark.worker]

PAIRWISE = """<View><Text name="a" value="$response_a"/><Text name="b" value="$response_b"/>
  <Pairwise name="pw" toName="a,b" allowTie="true"/></View>"""
RANKER = """<View><List name="responses" value="$responses"/><Ranker name="rank" toName="responses"/></View>"""
RATING = """<View><Text name="answer" value="$answer"/><Rating name="quality" toName="answer" maxRating="5"/></View>"""
PAIR = {"response_a": "Paris is the capital of France.", "response_b": "It is Lyon."}
RESPONSES = {"responses": [{"id": "r1", "title": "model-x", "body": "Paris."}, {"id": "r2", "title": "model-y", "body": "Lyon."},
                           {"id": "r3", "title": "model-z", "body": "Marseille."}]}
SWAPPED = {"left": "right", "right": "left"}


def preference(selected: str) -> dict:
    return {"from_name": "pw", "to_name": "a,b", "type": "pairwise", "value": {"selected": selected}}


def ranking(*ids: str) -> dict:
    return {"from_name": "rank", "to_name": "responses", "type": "ranker", "value": {"ranker": {"rank": list(ids)}}}


def rating(stars: int, to_name: str = "answer") -> dict:
    return {"from_name": "quality", "to_name": to_name, "type": "rating", "value": {"rating": stars}}


def wait_for(predicate, timeout: float = 20):
    return wait_until(predicate, timeout, "the worker did not get there", interval=0.05)


@pytest.fixture
def make_project(manager, make_user):
    def make(config: str, *, annotators: int = 3, **settings):
        project = services.create_project(creator=manager, title="GenAI QA", label_config=config)
        for name, value in settings.items():
            setattr(project, name, value)
        project.save()
        people = [make_user(f"judge{project.pk}_{index}") for index in range(annotators)]
        for person in people:
            services.add_member(project=project, user=person, role=Role.ANNOTATOR)
        return project, people
    return make


# --- Dawid-Skene over left / right / tie -----------------------------------------------------------------------

def answers_with_two_swappers(project, people, tasks, truths):
    """One annotator gives the true side, two always give the other one (they read the sides the wrong way
    round): a majority vote is wrong on every task; Dawid-Skene, told the answer of a few gold tasks, learns the
    two are informative but swapped, and gets every task right."""
    reliable, *swappers = people
    for task, truth in zip(tasks, truths):
        assert submit(reliable, task, [preference(truth)]).status_code == 201
        for person in swappers:
            assert submit(person, task, [preference(SWAPPED[truth])]).status_code == 201


@pytest.mark.parametrize("method", ["dawid_skene", "auto"])
def test_a_pairwise_project_is_decided_by_dawid_skene_with_annotator_reliability(worker, make_project, manager, method):
    project, people = make_project(PAIRWISE, overlap=3, aggregation_method=method)
    truths = ["right" if index % 3 == 0 else "left" for index in range(24)]
    tasks = import_tasks(project, [
        {"data": PAIR, **({"is_gold": True, "gold_result": [preference(truth)]} if index < 4 else {})}
        for index, truth in enumerate(truths)
    ])
    answers_with_two_swappers(project, people, tasks, truths)
    # Before a fit the per-task merge is a majority vote: the swapped side.
    last = wait_for(lambda: Task.objects.filter(pk=tasks[-1].pk).exclude(consensus_at=None).first())
    assert last.consensus_result[0]["value"] == {"selected": SWAPPED[truths[-1]]} and last.consensus_method == "majority"

    job = wait_for_job(client_for(manager).post(f"/api/projects/{project.pk}/consensus/").json()["id"])

    assert job.status == "succeeded", job.error
    assert job.result["method"] == "dawid_skene" and job.result["dawid_skene"]["pw"]["converged"]
    decided = {task.pk: task for task in Task.objects.filter(project=project)}
    assert [decided[task.pk].consensus_result[0]["value"]["selected"] for task in tasks] == truths
    assert all(decided[task.pk].consensus_method == "dawid_skene" for task in tasks)
    assert min(decided[task.pk].consensus_confidence for task in tasks) > 0.95
    scores = {score.user_id: score for score in AnnotatorScore.objects.filter(project=project)}
    reliable, swapper, _ = people
    assert scores[reliable.pk].reliability > 0.8 > 0.2 > scores[swapper.pk].reliability
    assert set(scores[reliable.pk].confusion) == {"pw"} and len(scores[reliable.pk].confusion["pw"]) == 3

    # A task finished after the fit: the stored matrices weigh the votes, so the lone reliable annotator wins.
    (late,) = import_tasks(project, [PAIR])
    answers_with_two_swappers(project, people, [late], ["left"])
    merged = wait_for(lambda: Task.objects.filter(pk=late.pk).exclude(consensus_at=None).first())
    assert merged.consensus_result[0]["value"] == {"selected": "left"}
    assert merged.consensus_method == "dawid_skene" and merged.consensus_confidence > 0.9
    shown = client_for(manager).get(f"/api/tasks/{late.pk}/").json()["consensus"]
    assert shown["controls"]["pw"]["method"] == "dawid_skene" and shown["controls"]["pw"]["agreement"] == pytest.approx(1 / 3)


def test_majority_vote_keeps_the_swapped_side(worker, make_project, manager):
    project, people = make_project(PAIRWISE, overlap=3, aggregation_method="majority")
    tasks = import_tasks(project, [PAIR] * 4)
    answers_with_two_swappers(project, people, tasks, ["left"] * 4)

    job = wait_for_job(client_for(manager).post(f"/api/projects/{project.pk}/consensus/").json()["id"])

    assert job.status == "succeeded" and job.result["method"] == "majority"
    assert {task.consensus_result[0]["value"]["selected"] for task in Task.objects.filter(project=project)} == {"right"}


# --- routing ---------------------------------------------------------------------------------------------------

DISAGREEMENTS = {
    "pairwise": (PAIRWISE, PAIR, [preference("left")], [preference("right")]),
    "ranking": (RANKER, RESPONSES, [ranking("r1", "r2", "r3")], [ranking("r3", "r2", "r1")]),
    "rating": (RATING, {"answer": "Paris."}, [rating(1)], [rating(5)]),
}


@pytest.mark.parametrize("kind", DISAGREEMENTS)
def test_a_disagreement_asks_for_one_more_annotator_with_adaptive_overlap(worker, make_project, kind):
    config, data, first, second = DISAGREEMENTS[kind]
    project, people = make_project(config, overlap=2, adaptive_overlap=True, max_overlap=3, agreement_threshold=0.6)
    agreed, disputed = import_tasks(project, [data, data])
    for person in people[:2]:
        submit(person, agreed, first)
    submit(people[0], disputed, first)
    submit(people[1], disputed, second)

    reopened = wait_for(lambda: Task.objects.filter(pk=disputed.pk, extra_annotations=1, is_finished=False).first())
    assert wait_for(lambda: Task.objects.filter(pk=agreed.pk).exclude(consensus_at=None).first()).agreement == 1.0
    assert Task.objects.get(pk=agreed.pk).extra_annotations == 0
    assert client_for(people[2]).get(f"/api/projects/{project.pk}/next/").json()["id"] == reopened.pk

    before_third = timezone.now()
    submit(people[2], disputed, second)
    settled = wait_for(lambda: Task.objects.filter(pk=disputed.pk, is_finished=True, consensus_at__gt=before_third).first())
    assert settled.agreement < 0.6
    # At max_overlap and still below the threshold: a reviewer decides.
    wait_for(lambda: Task.objects.filter(pk=disputed.pk, review_status="pending").exists())


@pytest.mark.parametrize("kind", DISAGREEMENTS)
def test_without_adaptive_overlap_a_disagreement_goes_to_review(worker, make_project, manager, kind):
    config, data, first, second = DISAGREEMENTS[kind]
    project, people = make_project(config, annotators=2, overlap=2, agreement_threshold=0.6)
    (task,) = import_tasks(project, [data])

    submit(people[0], task, first)
    submit(people[1], task, second)

    wait_for(lambda: Task.objects.filter(pk=task.pk, review_status="pending").exists())
    assert Task.objects.get(pk=task.pk).agreement == 0.0
    assert client_for(manager).get(f"/api/projects/{project.pk}/review/next/").json()["id"] == task.pk


# --- the project's agreement -----------------------------------------------------------------------------------

GENAI = """<View><Text name="a" value="$response_a"/><Text name="b" value="$response_b"/>
  <Pairwise name="pw" toName="a,b" allowTie="true"/>
  <List name="responses" value="$responses"/><Ranker name="rank" toName="responses"/>
  <Rating name="quality" toName="a" maxRating="5"/></View>"""


def test_the_agreement_endpoint_sums_up_each_genai_control(worker, make_project, manager):
    project, people = make_project(GENAI, overlap=2, aggregation_method="majority", agreement_threshold=0.0)
    tasks = import_tasks(project, [{**PAIR, **RESPONSES}] * 6)
    ratings = [(5, 5), (4, 5), (1, 2), (3, 3), (2, 2), (5, 4)]
    shown_left = judgments = 0
    for index, task in enumerate(tasks):
        for person, stars in zip(people[:2], ratings[index]):
            # Everyone prefers what the page showed on the left, except the second annotator on the last two tasks.
            prefers_shown_left = not (person == people[1] and index >= 4)
            selected = "tie" if index == 0 else ("left" if prefers_shown_left != shows_swapped(task.pk, person.pk) else "right")
            order = ("r1", "r2", "r3") if person == people[0] or index % 2 else ("r2", "r1", "r3")
            assert submit(person, task, [preference(selected), ranking(*order), rating(stars, "a")]).status_code == 201
            if selected != "tie":
                judgments += 1
                shown_left += prefers_shown_left

    job = wait_for_job(client_for(manager).post(f"/api/projects/{project.pk}/consensus/").json()["id"])
    assert job.status == "succeeded", job.error
    body = client_for(manager).get(f"/api/projects/{project.pk}/agreement/").json()

    assert {"overall", "per_label", "histogram", "tasks", "method"} <= set(body)  # the keys it always had
    pairwise, ranker, quality = body["controls"]["pw"], body["controls"]["rank"], body["controls"]["quality"]
    assert pairwise["answers"]["tie"] == 2 and pairwise["tie_share"] == pytest.approx(2 / 12)
    assert pairwise["position_bias"]["judgments"] == judgments == 10
    assert pairwise["position_bias"]["chose_shown_left"] == shown_left == 8
    assert pairwise["position_bias"]["share"] == pytest.approx(0.8)
    assert pairwise["position_bias"]["ci_low"] < 0.8 < pairwise["position_bias"]["ci_high"]
    # Kendall's W of two rankings: 1 when they match (tasks 1, 3, 5), 0.75 when the top two swap (0, 2, 4).
    assert ranker["tasks"] == 6 and ranker["kendalls_w"] == pytest.approx((3 * 1 + 3 * 0.75) / 6)
    assert quality["units"] == 6 and quality["ratings"] == 12 and quality["mean_rating"] == pytest.approx(41 / 12)
    assert quality["alpha"] == pytest.approx(project_alpha(ratings))
    assert quality["alpha"] > 0.8


def project_alpha(units: list[tuple[int, int]]) -> float:
    """Krippendorff's interval alpha of pairs of ratings, straight from its definition (two coders per unit)."""
    values = [value for unit in units for value in unit]
    observed = sum((first - second) ** 2 for first, second in units) * 2 / len(values)
    expected = sum((x - y) ** 2 for x in values for y in values) / (len(values) * (len(values) - 1))
    return 1 - observed / expected
