"""Suggestions reach annotators on their own: with prelabel_after_training (on in the demo), each training that
makes a new version pre-labels the unfinished tasks, with no manager action. A real worker, then the service."""
import time

import pytest

from ml.models import ProjectModel
from ml.services import run_training
from projects import services
from ml.management.commands.seed_demo import DEMO_PROJECTS, TEXT_CONFIG as DEMO_TEXT_CONFIG
from projects.models import Prediction, Role, Task
from tests.api_helpers import import_tasks, import_texts, sentiment, submit
from tests.conftest import wait_for_job
from tests.ml_data import reviews
from projects.models import Job

DEMO_REVIEWS = DEMO_PROJECTS[0]


@pytest.fixture
def demo_like_project(manager, annotator):
    project = services.create_project(creator=manager, title="Like the demo", label_config=DEMO_TEXT_CONFIG)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    return project


def wait_for_predictions(tasks: list[Task], timeout: float = 90) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = dict(Prediction.objects.filter(task__in=tasks).values_list("task_id", "model_version"))
        if len(found) == len(tasks):
            return found
        time.sleep(0.2)
    raise AssertionError(f"{len(found)} of {len(tasks)} tasks got a prediction in {timeout} s; jobs: "
                         f"{list(Job.objects.values_list('kind', 'status', 'error'))}")


@pytest.mark.worker
def test_the_20th_annotation_of_a_demo_like_project_brings_suggestions_to_the_unlabelled_tasks(worker, api, manager, annotator, demo_like_project):
    assert DEMO_REVIEWS.model["prelabel_after_training"] is True
    configured = api(manager).put(f"/api/projects/{demo_like_project.pk}/model/", DEMO_REVIEWS.model, format="json")
    assert configured.status_code == 200 and configured.json()["prelabel_after_training"] is True
    data = reviews(30, seed=11)
    tasks = import_texts(demo_like_project, *[text for text, _ in data])
    labelled, unlabelled = tasks[:20], tasks[20:]

    for task, (_, label) in zip(labelled, data):
        assert submit(annotator, task, [sentiment(label)]).status_code == 201
    versions = wait_for_predictions(unlabelled)

    assert set(versions.values()) == {"text_classifier-v1"}
    [prediction] = api(annotator).get(f"/api/tasks/{unlabelled[0].pk}/").json()["predictions"]
    assert prediction["result"][0]["from_name"] == "sentiment"
    [job] = Job.objects.filter(project=demo_like_project, kind=Job.Kind.PRELABEL)
    assert (job.created_by, job.params["unfinished_only"]) == (None, True)
    assert wait_for_job(job.pk, 30).status == "succeeded"
    assert not Prediction.objects.filter(task__in=labelled).exists()  # finished tasks need no suggestion


def _labelled_project(project, count: int = 12) -> None:
    import_tasks(project, [{"data": {"text": text}, "annotations": [{"result": [sentiment(label)]}]} for text, label in reviews(count, seed=3)])
    import_texts(project, "still to label")


@pytest.mark.parametrize("after_training, then_plan_job, expected", [
    (True, None, [{"only_missing": False, "unfinished_only": True}]),
    (False, None, []),  # the setting is off by default
    (True, 999, []),  # a job asked for this training and goes on by itself
])
def test_a_training_queues_pre_labeling_only_when_asked(text_project, after_training, then_plan_job, expected):
    _labelled_project(text_project)
    ProjectModel.objects.create(project=text_project, engine="text_classifier", min_labels=5, prelabel_after_training=after_training)

    outcome = run_training(text_project.pk, then_plan_job=then_plan_job)

    assert outcome.startswith("trained text_classifier-v1")
    assert [job.params for job in Job.objects.filter(project=text_project, kind=Job.Kind.PRELABEL)] == expected


def test_no_pre_labeling_job_piles_up_while_one_is_under_way(text_project):
    _labelled_project(text_project)
    ProjectModel.objects.create(project=text_project, engine="text_classifier", min_labels=5, prelabel_after_training=True)
    Job.objects.create(kind=Job.Kind.PRELABEL, project=text_project, status=Job.Status.RUNNING)

    outcome = run_training(text_project.pk)

    assert outcome.endswith("a pre-labeling job is already under way")
    assert Job.objects.filter(project=text_project, kind=Job.Kind.PRELABEL).count() == 1


def test_a_failed_training_starts_nothing(text_project):
    import_texts(text_project, "one", "two")
    ProjectModel.objects.create(project=text_project, engine="text_classifier", min_labels=5, prelabel_after_training=True)

    outcome = run_training(text_project.pk)

    assert "needs at least 5 labelled tasks" in outcome
    assert not Job.objects.filter(project=text_project, kind=Job.Kind.PRELABEL).exists()
