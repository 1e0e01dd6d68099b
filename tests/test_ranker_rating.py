"""<List>, <Ranker> and <Rating> through the API: configs and results refused with the reason, answers stored, the
consensus of a finished task, the page JSON, the review display and the table cell."""
import pytest

from exports.engine.results import control_value
from frontend.labeling import page_config
from projects import services
from projects.label_config import parse_label_config
from projects.models import Role
from quality.consensus import update_task_consensus
from quality.review_page import describe
from tests.api_helpers import import_tasks
from tests.conftest import client_for

RANKED = """<View><List name="responses" value="$responses"/><Ranker name="rank" toName="responses"/>
  <Rating name="score" toName="responses" perItem="true" maxRating="7"/></View>"""
BUCKETS = """<View><List name="responses" value="$responses"/>
  <Ranker name="rank" toName="responses"><Bucket name="good" title="Good answers"/><Bucket name="bad" title="Bad"/></Ranker></View>"""
WHOLE = """<View><Text name="answer" value="$answer"/><Rating name="quality" toName="answer"/></View>"""
RESPONSES = [{"id": "r1", "title": "model-x", "body": "Paris."}, {"id": "r2", "title": "model-y", "body": "Lyon."},
             {"id": "r3", "title": "model-z", "body": "It is Paris, the capital.", "model": "z-1"}]


def ranking(*ids: str, **buckets: list) -> dict:
    value = buckets or {"rank": list(ids)}
    return {"from_name": "rank", "to_name": "responses", "type": "ranker", "value": {"ranker": value}}


def rating(stars, item: str | None = None, name: str = "score", to_name: str = "responses") -> dict:
    item_index = {} if item is None else {"item_index": item}
    return {"from_name": name, "to_name": to_name, "type": "rating", "value": {"rating": stars}, **item_index}


@pytest.fixture
def make_project(manager, annotator, other_annotator):
    def make(config: str, overlap: int = 1):
        project = services.create_project(creator=manager, title="GenAI", label_config=config)
        project.overlap = overlap
        project.save(update_fields=["overlap"])
        for user in (annotator, other_annotator):
            services.add_member(project=project, user=user, role=Role.ANNOTATOR)
        return project
    return make


# --- configs ---------------------------------------------------------------------------------------------------

BAD_CONFIGS = {
    "Ranker on a Text": ('<View><Text name="t" value="$t"/><Ranker name="rank" toName="t"/></View>',
                         '<Ranker> cannot label <Text name="t">'),
    "maxRating 0": ('<View><Text name="t" value="$t"/><Rating name="s" toName="t" maxRating="0"/></View>',
                    '<Rating name="s"> maxRating="0" must be a whole number from 2 to 10'),
    "maxRating negative": ('<View><Text name="t" value="$t"/><Rating name="s" toName="t" maxRating="-3"/></View>',
                           'maxRating="-3" must be a whole number'),
    "maxRating absurd": ('<View><Text name="t" value="$t"/><Rating name="s" toName="t" maxRating="1000"/></View>',
                         'maxRating="1000" must be a whole number from 2 to 10'),
    "perItem on a Text": ('<View><Text name="t" value="$t"/><Rating name="s" toName="t" perItem="true"/></View>',
                          '<Rating name="s"> perItem="true" needs a toName naming one <List>'),
    "perItem not a boolean": (RANKED.replace('perItem="true"', 'perItem="yes"'), 'perItem="yes" must be "true" or "false"'),
    "Bucket without name": (BUCKETS.replace('name="bad" ', ""), '<Bucket> needs a name="..." attribute'),
    "Bucket twice": (BUCKETS.replace('name="bad"', 'name="good"'), '<Ranker name="rank"> lists "good" twice'),
    "Bucket outside a Ranker": ('<View><List name="l" value="$l"/><Rating name="s" toName="l"/><Bucket name="x"/></View>',
                                "must be inside <Ranker>"),
    "Choice in a Ranker": (BUCKETS.replace("<Bucket", "<Choice", 1).replace('name="good"', 'value="good"'),
                           '<Choice> cannot be inside <Ranker name="rank">'),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_a_bad_config_is_a_400_naming_the_tag_and_attribute(api, staff, case):
    config, message = BAD_CONFIGS[case]
    response = api(staff).post("/api/projects/", {"title": "bad", "label_config": config}, format="json")
    assert response.status_code == 400
    assert message in response.json()["label_config"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("config", [RANKED, BUCKETS, WHOLE, WHOLE.replace("/>", ' maxRating="10"/>', 2)])
def test_the_genai_configs_are_accepted(api, staff, config):
    assert api(staff).post("/api/projects/", {"title": "ok", "label_config": config}, format="json").status_code == 201


def test_buckets_and_rating_options_are_parsed():
    buckets = parse_label_config(BUCKETS).controls["rank"]
    assert buckets.values == ("good", "bad") and buckets.options == {"bucket_titles": {"good": "Good answers", "bad": "Bad"}}
    assert parse_label_config(WHOLE).controls["quality"].options == {"max_rating": 5, "per_item": False}
    page = page_config(RANKED)
    assert page["controls"]["score"]["options"] == {"max_rating": 7, "per_item": True}
    assert page["objects"]["responses"]["module"] == "/static/frontend/js/objects/list.js"
    assert page["controls"]["rank"]["module"] == "/static/frontend/js/controls/ranker.js"


# --- task data -------------------------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("responses, message", [
    ("just text", 'task data "responses" must be a non-empty list'),
    ([], 'task data "responses" must be a non-empty list'),
    ([{"id": "r1", "body": "a"}, {"title": "x", "body": "b"}], 'task data "responses"[1] needs an "id"'),
    ([{"id": "r1", "body": "a"}, {"id": "r1", "body": "b"}], 'task data "responses"[1]: id "r1" is used by an earlier item'),
    ([{"id": "r1"}], 'task data "responses"[0] ("r1") needs a "body" string'),
    ([{"id": "r1", "body": "a", "title": 3}], '"title" must be a string'),
    (["r1"], 'task data "responses"[0] must be an object'),
])
def test_list_data_names_the_wrong_item(make_project, responses, message):
    project = make_project(RANKED)
    response = client_for(project.created_by).post(f"/api/projects/{project.pk}/import", [{"responses": responses}], format="json")
    assert response.status_code == 400
    assert message in str(response.json())


# --- results ---------------------------------------------------------------------------------------------------

BAD_RESULTS = {
    "drops an id": ([ranking("r2", "r1")], 'rank leaves out "r3"'),
    "repeats an id": ([ranking("r2", "r1", "r1", "r3")], 'rank ranks "r1" more than once'),
    "invents an id": ([ranking("r2", "r1", "r9")], 'rank ranks "r9", which is not an item of responses (r1, r2, r3)'),
    "wrong key": ([{**ranking(), "value": {"ranker": {"responses": ["r1", "r2", "r3"]}}}], 'value.ranker key "responses" is not'),
    "not a list": ([{**ranking(), "value": {"ranker": {"rank": "r1"}}}], 'value.ranker["rank"] must be a list'),
    "rating too high": ([rating(8, "r1")], "value.rating must be a whole number from 1 to 7 (maxRating), not 8"),
    "rating zero": ([rating(0, "r1")], "from 1 to 7"),
    "rating not whole": ([rating(2.5, "r1")], "from 1 to 7"),
    "rating of no item": ([rating(3, "r7")], "score: item_index 'r7' must be the id of an item of responses"),
    "per-item rating without item": ([rating(3)], "score: item_index None must be the id"),
    "item rated twice": ([rating(3, "r1"), rating(4, "r1")], 'score rates "r1" twice'),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_RESULTS)
def test_a_bad_result_is_a_400_with_the_reason(api, make_project, annotator, case):
    project = make_project(RANKED)
    [task] = import_tasks(project, [{"responses": RESPONSES}])
    result, message = BAD_RESULTS[case]
    response = api(annotator).post(f"/api/tasks/{task.pk}/annotations/", {"result": result}, format="json")
    assert response.status_code == 400
    assert message in str(response.json())


@pytest.mark.django_db
def test_bucket_results_place_every_item_once(api, make_project, annotator):
    project = make_project(BUCKETS)
    [task] = import_tasks(project, [{"responses": RESPONSES}])
    post = lambda result: api(annotator).post(f"/api/tasks/{task.pk}/annotations/", {"result": result}, format="json")
    assert 'value.ranker key "ugly" is not one key per bucket of rank (good, bad)' in str(post([ranking(ugly=["r1"])]).json())
    assert 'rank leaves out "r2"' in str(post([ranking(good=["r1"], bad=["r3"])]).json())
    assert 'rank ranks "r1" more than once' in str(post([ranking(good=["r1"], bad=["r1", "r2", "r3"])]).json())
    assert post([ranking(good=["r3", "r1"], bad=["r2"])]).status_code == 201


@pytest.mark.django_db
def test_whole_task_rating_takes_one_rating(api, make_project, annotator):
    project = make_project(WHOLE)
    [task] = import_tasks(project, [{"answer": "Paris."}])
    post = lambda result: api(annotator).post(f"/api/tasks/{task.pk}/annotations/", {"result": result}, format="json")
    whole = lambda stars, **extra: {**rating(stars, name="quality", to_name="answer"), **extra}
    assert "quality: item_index is only for a Rating with perItem" in str(post([whole(3, item_index="r1")]).json())
    assert "quality takes one rating, got 2" in str(post([whole(3), whole(4)]).json())
    assert "from 1 to 5 (maxRating), not 6" in str(post([whole(6)]).json())
    assert post([whole(5)]).status_code == 201


# --- stored answers: consensus, review, table cell -------------------------------------------------------------

@pytest.mark.django_db
def test_a_finished_task_gets_the_borda_ranking_and_median_ratings(api, make_project, annotator, other_annotator):
    project = make_project(RANKED, overlap=2)
    [task] = import_tasks(project, [{"responses": RESPONSES}])
    answers = {annotator: [ranking("r3", "r1", "r2"), rating(6, "r3"), rating(2, "r2")],
               other_annotator: [ranking("r3", "r2", "r1"), rating(7, "r3"), rating(2, "r2")]}
    for user, result in answers.items():
        response = api(user).post(f"/api/tasks/{task.pk}/annotations/", {"result": result}, format="json")
        assert response.status_code == 201, response.json()
    update_task_consensus(task.pk)
    task.refresh_from_db()
    merged = {(item["from_name"], item.get("item_index")): item["value"] for item in task.consensus_result}
    ranked = merged[("rank", None)]["ranker"]["rank"]  # Borda r3 4, r1 1, r2 1: the tie is drawn, r3 leads
    assert ranked[0] == "r3" and sorted(ranked) == ["r1", "r2", "r3"]
    assert merged[("score", "r2")] == {"rating": 2}
    assert merged[("score", "r3")]["rating"] in (6, 7)
    assert task.agreement is not None


def test_review_and_table_show_rankings_and_ratings():
    config = parse_label_config(RANKED)
    data = {"responses": RESPONSES}
    shown = describe([ranking("r2", "r1", "r3"), rating(4, "r1")], data, config.objects)
    assert shown["answers"]["rank"] == ["1. r2", "2. r1", "3. r3"]
    assert shown["answers"]["score"] == ["r1: 4 ★"]
    cards = shown["objects"][0]["cards"]
    assert shown["objects"][0]["kind"] == "cards"
    assert [(card["id"], card["title"], card["rank"], card["ratings"]) for card in cards] == [
        ("r1", "model-x", 2, ["4 ★"]), ("r2", "model-y", 1, []), ("r3", "model-z", 3, [])]
    assert cards[2]["body"] == "It is Paris, the capital."
    annotation = {"result": [ranking("r2", "r1", "r3"), rating(4, "r1"), rating(6, "r2")]}
    assert control_value(annotation, config.controls["rank"]) == ["r2", "r1", "r3"]
    assert control_value(annotation, config.controls["score"]) == {"r1": 4, "r2": 6}
    buckets = parse_label_config(BUCKETS)
    assert control_value({"result": [ranking(good=["r1"], bad=["r2", "r3"])]}, buckets.controls["rank"]) == {
        "good": ["r1"], "bad": ["r2", "r3"]}
