"""The model leaderboard through the API: a project of two <Text> responses judged with <Pairwise> and <Rating>,
read as its consensus or as every annotation, who may see it, its parameters and schema; and the reader on its
own for rankings, per-item ratings of a <List> and the task-data rule that names each response's model."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import services
from projects.models import Role, Task
from quality.consensus import update_task_consensus
from quality.leaderboard import ANNOTATIONS, read_judgments
from tests.api_helpers import import_tasks, submit
from tests.conftest import client_for

PAIRWISE_CONFIG = """<View><Text name="prompt" value="$prompt"/>
  <Text name="a" value="$a"/><Text name="b" value="$b"/>
  <Pairwise name="pw" toName="a,b" allowTie="true"/>
  <Rating name="helpful" toName="a" maxRating="5"/></View>"""
LIST_CONFIG = """<View><List name="responses" value="$responses"/>
  <Ranker name="rank" toName="responses"/>
  <Rating name="quality" toName="responses" maxRating="5" perItem="true"/></View>"""
# (model_a, model_b, what each of the three annotators picks): alpha beats beta beats gamma, one tie.
MATCHES = [("alpha", "beta", "left"), ("beta", "alpha", "right"), ("alpha", "gamma", "left"),
           ("gamma", "beta", "right"), ("beta", "gamma", "left"), ("alpha", "beta", "tie")]




@pytest.fixture
def judges(make_user):
    return [make_user(f"judge{index}") for index in range(3)]


@pytest.fixture
def arena(manager, judges):
    """Six tasks of two responses, each judged by all three judges alike, with their consensus computed."""
    project = services.create_project(creator=manager, title="Arena", label_config=PAIRWISE_CONFIG, overlap=3)
    for judge in judges:
        services.add_member(project=project, user=judge, role=Role.ANNOTATOR)
    tasks = import_tasks(project, [
        {"prompt": f"Question {index}", "a": f"answer by {first}", "b": f"answer by {second}",
         "model_a": first, "model_b": second}
        for index, (first, second, _) in enumerate(MATCHES)
    ])
    for task, (first, _, selected) in zip(tasks, MATCHES):
        for judge in judges:
            stars = 5 if first == "alpha" else 3
            response = submit(judge, task, [pairwise(selected), helpful(stars)])
            assert response.status_code == 201, response.json()
        assert update_task_consensus(task.pk)
    return project


def pairwise(selected: str) -> dict:
    return {"from_name": "pw", "to_name": "a,b", "type": "pairwise", "value": {"selected": selected}}


def helpful(stars: int) -> dict:
    return {"from_name": "helpful", "to_name": "a", "type": "rating", "value": {"rating": stars}}


def leaderboard(user, project, **params):
    return client_for(user).get(f"/api/projects/{project.pk}/leaderboard/", params)


def by_model(body: dict) -> dict:
    return {row["model"]: row for row in body["models"]}


@pytest.mark.django_db
def test_the_leaderboard_ranks_the_models_by_their_consensus_battles(arena, manager):
    response = leaderboard(manager, arena)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert [row["model"] for row in body["models"]] == ["alpha", "beta", "gamma"]
    assert body["source"] == "consensus" and body["bootstrap"] == 100 and body["battle_count"] == 6
    rows = by_model(body)
    assert (rows["alpha"]["wins"], rows["alpha"]["losses"], rows["alpha"]["ties"]) == (3, 0, 1)
    assert (rows["gamma"]["wins"], rows["gamma"]["losses"], rows["gamma"]["judgments"]) == (0, 3, 3)
    assert rows["alpha"]["win_rate"] == pytest.approx(3.5 / 4)
    for row in body["models"]:
        assert row["ci_low"] <= row["score"] <= row["ci_high"]
    assert sum(row["score"] for row in body["models"]) / 3 == pytest.approx(1000)
    assert body["win_rate_matrix"][0] == [None, pytest.approx(2.5 / 3, abs=1e-4), 1.0]  # against beta: won, won, tied
    assert rows["alpha"]["ratings"]["helpful"] == {"mean": 5.0, "ci_low": 5.0, "ci_high": 5.0, "count": 3}
    assert rows["gamma"]["ratings"]["helpful"]["count"] == 1  # rated once, as the first response of one task


@pytest.mark.django_db
def test_every_annotation_counts_once_with_source_annotations(arena, manager):
    body = leaderboard(manager, arena, source="annotations", bootstrap=0).json()

    rows = by_model(body)
    assert body["battle_count"] == 18 and rows["alpha"]["judgments"] == 12
    assert rows["alpha"]["ci_low"] is None and rows["alpha"]["score"] > rows["beta"]["score"]
    assert rows["beta"]["ratings"]["helpful"]["count"] == 3 * 2  # beta is model_a of two tasks


@pytest.mark.django_db
def test_the_same_results_give_the_same_intervals(arena, manager):
    first, again = (leaderboard(manager, arena, bootstrap=50).json() for _ in range(2))

    assert first.pop("computed_at") <= again.pop("computed_at") and first == again
    assert (first["job"], first["annotations_changed"]) == (None, False)  # computed for the request


@pytest.mark.django_db
def test_reviewers_see_it_annotators_only_where_the_project_is_not_blind(arena, judges, make_user, outsider):
    reviewer = make_user("reviewer")
    services.add_member(project=arena, user=reviewer, role=Role.REVIEWER)

    assert leaderboard(reviewer, arena).status_code == 200
    refused = leaderboard(judges[0], arena)
    assert refused.status_code == 403 and "blind" in refused.json()["detail"]
    assert leaderboard(outsider, arena).status_code == 404
    arena.blind = False
    arena.save(update_fields=["blind"])
    assert leaderboard(judges[0], arena).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("params, field", [
    ({"bootstrap": 1001}, "bootstrap"), ({"bootstrap": -1}, "bootstrap"), ({"bootstrap": "many"}, "bootstrap"),
    ({"source": "votes"}, "source"),
])
def test_bad_parameters_are_a_400_naming_them(arena, manager, params, field):
    response = leaderboard(manager, arena, **params)

    assert response.status_code == 400 and field in response.json()


@pytest.mark.django_db
def test_a_project_without_judgments_has_an_empty_board(manager, text_project):
    body = leaderboard(manager, text_project).json()

    assert body["models"] == [] and body["win_rate_matrix"] == [] and body["battle_count"] == 0


@pytest.mark.django_db
def test_the_schema_documents_the_leaderboard_with_its_parameters_and_fields(api):
    schema = api(None).get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/projects/{id}/leaderboard/"]["get"]
    assert {param["name"] for param in operation["parameters"]} >= {"bootstrap", "source"}
    row = schema["components"]["schemas"]["ModelScore"]["properties"]
    assert {"score", "ci_low", "ci_high", "wins", "losses", "ties", "win_rate", "judgments", "ratings"} <= set(row)


# --- the reader on its own ------------------------------------------------------------------------------------

def list_project(manager):
    return services.create_project(creator=manager, title="Lists", label_config=LIST_CONFIG)


def responses(*models: str) -> list[dict]:
    return [{"id": f"r{index}", "title": f"title {model}", "model": model, "body": "..."}
            for index, model in enumerate(models)]


def ranked(*ids: str) -> dict:
    return {"from_name": "rank", "to_name": "responses", "type": "ranker", "value": {"ranker": {"rank": list(ids)}}}


def quality(stars: int, **where) -> dict:
    return {"from_name": "quality", "to_name": "responses", "type": "rating", "value": {"rating": stars, **where}}


@pytest.mark.django_db
def test_a_ranking_gives_every_pair_it_implies_and_per_item_ratings_go_to_their_item(manager):
    project = list_project(manager)
    Task.objects.create(project=project, data={"responses": responses("x", "y", "z")}, consensus_result=[
        ranked("r2", "r0", "r1"), quality(5, id="r2"), quality(2, item_index=1),
    ])

    judgments = read_judgments(project)

    names = {index: name for name, index in judgments.models.items()}
    assert sorted((names[a], names[b], outcome, times) for (a, b, outcome), times in judgments.battles.items()) == [
        ("x", "y", 1.0, 1), ("z", "x", 1.0, 1), ("z", "y", 1.0, 1)]
    assert sorted((names[model], stars) for model, _, stars in judgments.ratings) == [("y", 2.0), ("z", 5.0)]


@pytest.mark.django_db
def test_a_list_item_without_model_is_named_by_its_title_and_unknown_ids_are_counted(manager):
    project = list_project(manager)
    items = [{"id": "r0", "title": "kappa"}, {"id": "r1", "title": "lambda"}]
    Task.objects.create(project=project, data={"responses": items}, consensus_result=[ranked("r1", "r0", "r9")])

    judgments = read_judgments(project)

    assert set(judgments.models) == {"kappa", "lambda"} and len(judgments.battles) == 1
    assert judgments.unattributed == 2  # r9 against each of the others


@pytest.mark.django_db
def test_an_object_names_its_model_by_its_own_key_before_the_pairwise_position(manager):
    project = services.create_project(creator=manager, title="Keys", label_config=PAIRWISE_CONFIG)
    result = [pairwise("left")]
    Task.objects.create(project=project, data={"a": "", "b": "", "model_a": "p", "model_b": "q"}, consensus_result=result)
    Task.objects.create(project=project, data={"a": "", "b": "", "model_a": "p", "model_b": "p"}, consensus_result=result)
    Task.objects.create(project=project, data={"a": "", "b": ""}, consensus_result=result)

    judgments = read_judgments(project)

    assert [(list(judgments.models)[a], list(judgments.models)[b], o) for a, b, o in judgments.battles] == [("p", "q", 1.0)]
    assert judgments.battle_count == 1
    assert (judgments.same_model, judgments.unattributed, judgments.tasks_read) == (1, 1, 3)


@pytest.mark.django_db
def test_reading_costs_the_same_queries_for_ten_tasks_as_for_a_hundred(manager, judges):
    project = services.create_project(creator=manager, title="Many", label_config=PAIRWISE_CONFIG)

    def queries_for(task_count: int) -> int:
        tasks = Task.objects.bulk_create([
            Task(project=project, data={"a": "", "b": "", "model_a": "p", "model_b": "q"}, annotation_count=3)
            for _ in range(task_count)])
        for task in tasks:
            for judge in judges:
                task.annotations.create(project=project, completed_by=judge, result=[pairwise("right")])
        with CaptureQueriesContext(connection) as queries:
            judgments = read_judgments(project, source=ANNOTATIONS)
        assert judgments.battle_count == 3 * Task.objects.filter(project=project).count()
        return len(queries)

    assert queries_for(10) == queries_for(90)


@pytest.mark.django_db
def test_a_reviewers_result_overrules_the_consensus(manager):
    project = services.create_project(creator=manager, title="Reviewed", label_config=PAIRWISE_CONFIG)
    Task.objects.create(project=project, data={"a": "", "b": "", "model_a": "p", "model_b": "q"},
                        consensus_result=[pairwise("left")], reviewed_result=[pairwise("right")])

    assert [outcome for _, _, outcome in read_judgments(project).battles] == [0.0]
