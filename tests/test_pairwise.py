"""<Pairwise>: its config and results through the API (400s that name the problem), the per-annotator order the next
task carries against position bias, consensus on a task, the review chips and the table cell; the engine on plain
data with known answers."""
import hashlib

import pytest

from controls.pairwise import shows_swapped
from exports.engine.results import control_value
from frontend.labeling import page_config
from projects import services
from projects.label_config import parse_label_config
from projects.models import Role
from quality.consensus import update_task_consensus
from quality.engine.pairwise import aggregate_pairwise
from quality.engine.ties import stable_seed
from quality.review_page import describe
from tests.api_helpers import import_tasks, submit

PAIRWISE_CONFIG = """<View><Text name="a" value="$response_a"/><Text name="b" value="$response_b"/>
  <Pairwise name="pw" toName="a,b" allowTie="true"/></View>"""
NO_TIE_CONFIG = PAIRWISE_CONFIG.replace(' allowTie="true"', "")
TASK = {"response_a": "Paris is the capital of France.", "response_b": "It is Lyon."}
CONTROL = {"name": "pw", "to_name": "a,b", "type": "pairwise", "multiple": False, "values": []}


def preference(selected, to_name: str = "a,b") -> dict:
    return {"from_name": "pw", "to_name": to_name, "type": "pairwise", "value": {"selected": selected}}


@pytest.fixture
def pairwise_project(manager, annotator, other_annotator):
    project = services.create_project(creator=manager, title="Preferences", label_config=PAIRWISE_CONFIG, overlap=3)
    for user in (annotator, other_annotator):
        services.add_member(project=project, user=user, role=Role.ANNOTATOR)
    return project


# --- the label config ----------------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("config, message", [
    (PAIRWISE_CONFIG.replace('toName="a,b"', 'toName="a"'),
     '<Pairwise name="pw"> toName="a" must name exactly two objects to compare, like toName="a,b" (it names 1)'),
    (PAIRWISE_CONFIG.replace('toName="a,b"', 'toName="a,b,c"').replace("<Pairwise", '<Text name="c" value="$c"/><Pairwise'),
     '<Pairwise name="pw"> toName="a,b,c" must name exactly two objects to compare, like toName="a,b" (it names 3)'),
    (PAIRWISE_CONFIG.replace('allowTie="true"', 'allowTie="sometimes"'),
     '<Pairwise name="pw"> allowTie="sometimes" must be "true" or "false"'),
    (PAIRWISE_CONFIG.replace('<Text name="b" value="$response_b"/>', '<Image name="b" value="$image"/>'),
     '<Pairwise> cannot label <Image name="b">'),
], ids=["one object", "three objects", "allowTie not a boolean", "an image"])
def test_a_bad_pairwise_config_is_refused_naming_the_problem(api, staff, config, message):
    response = api(staff).post("/api/projects/", {"title": "P", "label_config": config})
    assert response.status_code == 400
    assert response.json()["label_config"] == [message]


def test_the_config_says_whether_a_tie_is_allowed_and_the_page_keys_skip_its_keys():
    assert parse_label_config(PAIRWISE_CONFIG).controls["pw"].options == {"allow_tie": True}
    assert parse_label_config(NO_TIE_CONFIG).controls["pw"].options == {"allow_tie": False}
    with_choices = PAIRWISE_CONFIG.replace("</View>", '<Choices name="topic" toName="a"><Choice value="Geo"/>'
                                           '<Choice value="History"/><Choice value="Maths"/></Choices></View>')
    controls = page_config(with_choices)["controls"]
    assert controls["pw"]["options"] == {"allow_tie": True} and controls["pw"]["required"] is True
    assert [entry["key"] for entry in controls["topic"]["values"]] == ["3", "4", "5"]  # 1, 2 and T are the pairwise's


# --- results ---------------------------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("config, value, message", [
    (PAIRWISE_CONFIG, "middle", "result[0]: value.selected 'middle' is not an answer of pw: 'left', 'right' or 'tie'"),
    (NO_TIE_CONFIG, "tie", "result[0]: value.selected 'tie' is not an answer of pw: 'left' or 'right' "
                           '(a tie needs allowTie="true" in the label config)'),
    (PAIRWISE_CONFIG, None, "result[0]: value.selected None is not an answer of pw: 'left', 'right' or 'tie'"),
    (PAIRWISE_CONFIG, ["left"], "result[0]: value.selected that is not an answer of pw: 'left', 'right' or 'tie'"),
], ids=["middle", "tie not allowed", "missing", "a list"])
def test_a_bad_answer_is_refused_naming_the_value(api, manager, annotator, config, value, message):
    project = services.create_project(creator=manager, title="P", label_config=config)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    [task] = import_tasks(project, [TASK])
    response = submit(annotator, task, [preference(value)])
    assert response.status_code == 400
    assert response.json()["result"] == [message]


@pytest.mark.django_db
def test_a_wrong_to_name_is_refused(pairwise_project, annotator):
    [task] = import_tasks(pairwise_project, [TASK])
    response = submit(annotator, task, [preference("left", "b,a")])
    assert response.status_code == 400
    assert response.json()["result"] == ["result[0]: to_name 'b,a' does not match pw's toName 'a,b'"]


@pytest.mark.django_db
def test_left_right_and_tie_are_stored_and_merged_into_a_consensus(pairwise_project, annotator, other_annotator, make_user):
    third = make_user("third")
    services.add_member(project=pairwise_project, user=third, role=Role.ANNOTATOR)
    [task] = import_tasks(pairwise_project, [TASK])
    for user, selected in ((annotator, "left"), (other_annotator, "left"), (third, "tie")):
        assert submit(user, task, [preference(selected)]).status_code == 201
    assert update_task_consensus(task.pk)
    task.refresh_from_db()
    assert [item["value"] for item in task.consensus_result] == [{"selected": "left"}]
    assert task.consensus_result[0]["type"] == "pairwise" and task.consensus_result[0]["to_name"] == "a,b"
    assert task.agreement == pytest.approx(1 / 3)  # of three pairs, one agrees


# --- position bias: the order each annotator sees --------------------------------------------------------------

@pytest.mark.django_db
def test_the_next_task_says_whether_the_annotator_sees_it_swapped(api, pairwise_project, annotator, other_annotator):
    import_tasks(pairwise_project, [TASK])
    for user in (annotator, other_annotator):
        leased = api(user).get(f"/api/projects/{pairwise_project.pk}/next/").json()
        assert leased["presentation"] == {"pw": {"swap": expected_swap(leased["id"], user.pk)}}
        again = api(user).get(f"/api/projects/{pairwise_project.pk}/next/").json()  # the same lease, the same order
        assert again["presentation"] == leased["presentation"]


@pytest.mark.django_db
def test_a_task_reopened_has_the_order_the_next_task_had(api, pairwise_project, annotator):
    import_tasks(pairwise_project, [TASK])
    leased = api(annotator).get(f"/api/projects/{pairwise_project.pk}/next/").json()
    assert api(annotator).get(f"/api/tasks/{leased['id']}/").json()["presentation"] == leased["presentation"]


@pytest.mark.django_db
def test_a_project_without_pairwise_sends_no_presentation(api, text_project, annotator):
    import_tasks(text_project, [{"text": "Fine."}])
    assert api(annotator).get(f"/api/projects/{text_project.pk}/next/").json()["presentation"] == {}


def test_about_half_of_the_task_annotator_pairs_are_swapped_by_a_stable_hash():
    pairs = [(task, user) for task in range(1, 201) for user in range(1, 11)]
    swapped = [shows_swapped(task, user) for task, user in pairs]
    assert 0.45 < sum(swapped) / len(swapped) < 0.55
    assert swapped == [expected_swap(task, user) for task, user in pairs]
    by_user = [sum(shows_swapped(task, user) for task in range(1, 201)) / 200 for user in range(1, 11)]
    assert all(0.35 < share < 0.65 for share in by_user)  # every annotator sees both orders, not one always swapped


def expected_swap(task_id: int, user_id: int) -> bool:
    """The hash as the server computes it, written out so a change to it is a visible decision."""
    digest = hashlib.blake2b(f"pairwise\x1f{task_id}\x1f{user_id}".encode(), digest_size=8).digest()
    return digest[-1] % 2 == 1  # the seed's lowest bit


# --- review and tables -----------------------------------------------------------------------------------------

def test_the_review_page_shows_the_preferred_object_by_name_and_the_table_its_side():
    config = parse_label_config(PAIRWISE_CONFIG)
    assert describe([preference("left")], TASK, config.objects)["answers"] == {"pw": ["a"]}
    assert describe([preference("right")], TASK, config.objects)["answers"] == {"pw": ["b"]}
    assert describe([preference("tie")], TASK, config.objects)["answers"] == {"pw": ["tie"]}
    for selected in ("left", "right", "tie"):
        assert control_value({"result": [preference(selected)]}, config.controls["pw"]) == selected


# --- the engine, on plain data ---------------------------------------------------------------------------------

def merged(*answers, seed: int = 7, **options):
    return aggregate_pairwise(CONTROL, [(f"u{index}", [preference(answer)] if answer else [])
                                        for index, answer in enumerate(answers)], seed=seed, **options)


def test_the_majority_wins_with_pairwise_agreement():
    outcome = merged("right", "right", "left")
    assert outcome.result == [{**outcome.result[0], "from_name": "pw", "to_name": "a,b", "type": "pairwise",
                               "value": {"selected": "right"}}]
    assert outcome.agreement == pytest.approx(1 / 3)
    assert outcome.confidence == pytest.approx(2 / 3)
    assert outcome.details["votes"] == {"right": 2, "left": 1}
    assert (outcome.method, outcome.annotator_count) == ("majority", 3)


def test_a_tie_can_win_and_unanimity_agrees_fully():
    assert merged("tie", "tie", "left").result[0]["value"] == {"selected": "tie"}
    unanimous = merged("left", "left", "left", "left")
    assert unanimous.agreement == 1.0 and unanimous.confidence == 1.0 and "tie" not in unanimous.details


def test_a_split_vote_is_broken_by_the_seeded_draw_the_same_way_every_time():
    outcomes = {merged("left", "right", seed=seed).result[0]["value"]["selected"] for seed in range(40)}
    assert outcomes == {"left", "right"}  # not "first in order": both sides win some splits
    first = merged("left", "right", seed=stable_seed(12))
    assert first.details["tie"] == {"between": ["left", "right"], "broken_by": "seeded_random"}
    assert merged("left", "right", seed=stable_seed(12)).result == first.result  # ids and answer, every run
    assert first.agreement == 0.0


def test_a_class_prior_breaks_a_split_before_the_draw():
    outcome = merged("left", "right", class_prior=[0.2, 0.7, 0.1])
    assert outcome.result[0]["value"] == {"selected": "right"}
    assert outcome.details["tie"]["broken_by"] == "preference"


def test_one_annotator_is_the_consensus_without_agreement_and_no_answer_gives_no_vote():
    alone = merged("left", None)
    assert alone.result[0]["value"] == {"selected": "left"} and alone.agreement is None
    assert merged(None, None).result == [] and merged().result == []


def test_reliability_weights_the_votes_in_dawid_skene_mode():
    reliability = {"u0": 0.95, "u1": 0.55, "u2": 0.55}
    outcome = merged("left", "right", "right", method="dawid_skene", reliability=reliability)
    assert outcome.result[0]["value"] == {"selected": "left"} and outcome.method == "dawid_skene"
