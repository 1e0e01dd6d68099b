"""The model leaderboard as a job: POST queues it (202 with the job), a real Celery worker computes and stores
the snapshot, and GET answers the snapshot for a project above LABELER_LEADERBOARD_INLINE_MAX (409 until there
is one); its parameters, who may start it, a broker that is down; and the PostgreSQL read that groups judgments
in the database, checked against the per-task reader on results of every shape."""
import pytest
from django.db import connection

from projects import services
from projects.label_config import response_models
from projects.models import Job, Role, Task
from quality import leaderboard, leaderboard_sql
from quality.leaderboard import ANNOTATIONS, CONSENSUS, judged_controls, read_judgments
from quality.models import LeaderboardSnapshot
from projects.services import project_config
from tests.api_helpers import import_tasks, submit
from tests.conftest import client_for, wait_for_job
from tests.test_import_hardening import dead_broker  # noqa: F401 (fixture)
from tests.test_leaderboard_api import arena, judges, pairwise  # noqa: F401, F811 (fixtures)


def url(project) -> str:
    return f"/api/projects/{project.pk}/leaderboard/"


def start(user, project, **body):
    return client_for(user).post(url(project), body, format="json")


@pytest.fixture
def big(settings):
    """Every project counts as too big to compute in the request."""
    settings.LABELER_LEADERBOARD_INLINE_MAX = 2


def test_a_big_project_is_computed_by_a_job_whose_snapshot_get_answers(worker, big, arena, manager, judges):
    waiting = client_for(manager).get(url(arena))
    assert waiting.status_code == 409
    assert waiting.json()["url"] == url(arena) and f"POST {url(arena)}" in waiting.json()["detail"]

    response = start(manager, arena, source="consensus", bootstrap=50)
    assert response.status_code == 202, response.json()
    assert response["Location"] == f"/api/jobs/{response.json()['id']}/" and response.json()["kind"] == "leaderboard"
    job = wait_for_job(response.json()["id"])
    assert job.status == "succeeded", job.error
    shown = client_for(manager).get(f"/api/jobs/{job.pk}/").json()
    assert shown["result"]["battle_count"] == 6 and shown["result"]["models"] == 3
    assert shown["progress"] == {"done": 6, "total": 6}

    board = client_for(manager).get(url(arena)).json()
    assert board["job"] == job.pk and board["annotations_changed"] is False and board["bootstrap"] == 50
    assert [row["model"] for row in board["models"]] == ["alpha", "beta", "gamma"]
    inline = leaderboard.project_leaderboard(arena, bootstrap_rounds=50)
    assert board["models"] == inline["models"] and board["win_rate_matrix"] == inline["win_rate_matrix"]

    (late,) = import_tasks(arena, [{"prompt": "late", "a": "", "b": "", "model_a": "alpha", "model_b": "gamma"}])
    submit(judges[0], late, [pairwise("left")])
    assert client_for(manager).get(url(arena)).json()["annotations_changed"] is True


def test_a_second_job_replaces_the_snapshot_of_its_source(worker, big, arena, manager):
    first = wait_for_job(start(manager, arena, bootstrap=0).json()["id"])
    again = wait_for_job(start(manager, arena, bootstrap=20).json()["id"])

    assert (first.status, again.status) == ("succeeded", "succeeded")
    assert list(LeaderboardSnapshot.objects.filter(project=arena).values_list("job", "bootstrap_rounds")) == [(again.pk, 20)]
    assert client_for(manager).get(url(arena), {"source": ANNOTATIONS}).status_code == 409  # none of that source yet


@pytest.mark.django_db
def test_asking_again_while_the_job_waits_answers_the_same_job(arena, manager):
    first, again = start(manager, arena, bootstrap=10), start(manager, arena, bootstrap=10)
    other = start(manager, arena, bootstrap=11)

    assert first.status_code == again.status_code == 202 and first.json()["id"] == again.json()["id"]
    assert other.json()["id"] != first.json()["id"]
    assert Job.objects.get(pk=first.json()["id"]).params == {"source": "consensus", "bootstrap": 10}


@pytest.mark.django_db
def test_a_big_project_without_a_snapshot_names_the_job_computing_one(big, arena, manager):
    job_id = start(manager, arena).json()["id"]

    waiting = client_for(manager).get(url(arena))

    assert waiting.status_code == 409 and waiting.json()["job"] == job_id and f"Job {job_id}" in waiting.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("body, field", [
    ({"bootstrap": 1001}, "bootstrap"), ({"bootstrap": -1}, "bootstrap"), ({"bootstrap": "many"}, "bootstrap"),
    ({"source": "votes"}, "source"),
])
def test_bad_settings_are_a_400_naming_them_and_start_nothing(arena, manager, body, field):
    response = start(manager, arena, **body)

    assert response.status_code == 400 and field in response.json()
    assert not Job.objects.filter(kind=Job.Kind.LEADERBOARD).exists()


@pytest.mark.django_db
def test_reviewers_may_start_it_annotators_only_where_the_project_is_not_blind(arena, judges, make_user, outsider):
    reviewer = make_user("reviewer")
    services.add_member(project=arena, user=reviewer, role=Role.REVIEWER)

    assert start(reviewer, arena).status_code == 202
    refused = start(judges[0], arena)
    assert refused.status_code == 403 and "blind" in refused.json()["detail"]
    assert start(outsider, arena).status_code == 404
    arena.blind = False
    arena.save(update_fields=["blind"])
    assert start(judges[0], arena).status_code == 202


def test_with_the_broker_down_the_post_is_a_503_and_a_failed_job(transactional_db, arena, manager, dead_broker):  # noqa: F811
    response = start(manager, arena)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failed" and "broker is unreachable" in body["error"]


# --- the PostgreSQL read against the per-task reader -----------------------------------------------------------

MIXED_CONFIG = """<View><Text name="a" value="$a"/><Text name="b" value="$b"/><List name="responses" value="$responses"/>
  <Pairwise name="pw" toName="a,b" allowTie="true"/><Rating name="helpful" toName="a"/>
  <Ranker name="rank" toName="responses"/><Rating name="quality" toName="responses" perItem="true"/></View>"""


def item(name: str, kind: str, value, **extra) -> dict:
    return {"id": f"i{id(value) % 1000}", "from_name": name, "to_name": "x", "type": kind, "value": value, **extra}


def mixed_tasks(project) -> None:
    """Results of every shape the reader meets, and task data that names models in each way it may."""
    items = [{"id": "r0", "model": "x"}, {"id": "r1", "title": "y"}, "not an item", {"id": 2, "model": 7},
             {"model": "w"}, {"id": None, "title": ""}]
    results = [
        [item("pw", "pairwise", {"selected": "left"}), item("helpful", "rating", {"rating": 4})],
        [item("pw", "Pairwise", {"selected": "tie"}), item("pw", "pairwise", {"selected": "right"})],
        [item("pw", "pairwise", {"selected": "sideways"}), item("pw", "choices", {"selected": "left"}),
         item("other", "pairwise", {"selected": "left"}), {"from_name": "pw", "type": "pairwise"},
         item("pw", "pairwise", ["left"]), "junk", [item("pw", "pairwise", {"selected": "left"})]],
        [item("rank", "ranker", {"ranker": {"rank": ["r1", "r0", 2, "r9"], "bucket": ["r0", "r1"]}}),
         item("quality", "rating", {"rating": 5, "id": "r0"}), item("quality", "rating", {"rating": 2, "item_index": 4}),
         item("quality", "rating", {"rating": 3.5, "id": 2}), item("quality", "rating", {"rating": True, "id": "r1"})],
        {"not": "a list"}, [], None,
    ]
    datas = [
        {"model_a": "p", "model_b": "q"}, {"a_model": "q", "model_a": "ignored", "b_model": "p"},
        {"model_a": 5, "model_b": 5.0}, {"model_a": "  ", "model_b": "p"}, {"model_a": None, "model_b": "q"},
        {"model_a": {"nested": 1}, "model_b": "p"}, {"model_a": "p", "model_b": "p"}, {},
    ]
    tasks = []
    for index in range(120):
        data = {"a": "long response " * 50, "b": "", "responses": items if index % 4 else "none", **datas[index % len(datas)]}
        result = results[index % len(results)]
        tasks.append(Task(project=project, data=data, annotation_count=1, consensus_result=result,
                          reviewed_result=results[(index + 1) % 4] if index % 11 == 0 else None))
    Task.objects.bulk_create(tasks)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the grouped read is PostgreSQL's (CI runs it there)")
@pytest.mark.parametrize("source", [CONSENSUS, ANNOTATIONS])
@pytest.mark.parametrize("kept_apart", [True, False], ids=["response_models", "older tasks: from the data"])
def test_the_grouped_read_finds_what_the_per_task_reader_finds(manager, judges, source, kept_apart):
    project = services.create_project(creator=manager, title="Mixed", label_config=MIXED_CONFIG)
    mixed_tasks(project)
    if kept_apart:
        for task_id, data in Task.objects.filter(project=project).values_list("id", "data"):
            Task.objects.filter(pk=task_id).update(response_models=response_models(data))
    assert Task.objects.filter(project=project, response_models__isnull=not kept_apart).exists()
    for index, task in enumerate(Task.objects.filter(project=project)):
        for judge in judges[: index % 3]:
            task.annotations.create(project=project, completed_by=judge, result=task.consensus_result or [],
                                    was_cancelled=index % 7 == 0)
    judged = judged_controls(project_config(project))

    grouped = read_judgments(project, source=source)
    per_task = leaderboard.Judgments(rating_controls=grouped.rating_controls)
    for task_data, results, times in leaderboard._task_judgments(project, judged, source):
        per_task.tasks_read += times
        for values in results:
            leaderboard.read_values(judged, task_data, values, per_task, times)

    groups = leaderboard_sql.grouped_judgments(project, judged.controls, judged.model_data_keys, ["responses"],
                                               every_annotation=source == ANNOTATIONS)
    assert len(list(groups)) < grouped.tasks_read  # it grouped
    named = lambda judgments: {name: index for name, index in judgments.models.items()}  # noqa: E731
    assert set(named(grouped)) == set(named(per_task)) and grouped.battle_count > 20 and grouped.rating_count > 10
    assert (grouped.tasks_read, grouped.unattributed, grouped.same_model) == (per_task.tasks_read, per_task.unattributed, per_task.same_model)
    board = leaderboard.score_judgments(grouped, source=source, bootstrap_rounds=30, seed=1)
    assert board == leaderboard.score_judgments(per_task, source=source, bootstrap_rounds=30, seed=1)
