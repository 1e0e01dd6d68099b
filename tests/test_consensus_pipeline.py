"""Consensus through a real Celery worker: per-task consensus after the last required annotation, adaptive
overlap, review routing, and the project recompute job (Dawid-Skene, gold accuracy, annotator scores)."""
import pytest
from django.utils import timezone

from projects import services
from projects.models import Role, Task
from quality.models import AnnotatorScore
from tests.api_helpers import box, import_texts, sentiment, submit
from tests.conftest import client_for, wait_for_job
from tests.waiting import wait_until
from workers.models import ConsensusDue

pytestmark = [pytest.mark.worker]


def wait_for(predicate, timeout: float = 20):
    return wait_until(predicate, timeout, "the worker did not get there", interval=0.05)


def nothing_due(task: Task) -> bool:
    """The worker has computed from every annotation change of the task (its consensus outbox row is gone)."""
    return not ConsensusDue.objects.filter(task_id=task.pk).exists()


def consensus_of(task: Task) -> Task | None:
    task.refresh_from_db()
    return task if task.consensus_at else None


@pytest.fixture
def crowd(text_project, make_user):
    people = [make_user(f"person{i}") for i in range(4)]
    for person in people:
        services.add_member(project=text_project, user=person, role=Role.ANNOTATOR)
    return people


def test_a_task_gets_its_consensus_soon_after_its_last_required_annotation(worker, text_project, crowd):
    text_project.overlap = 3
    text_project.save()
    (task,) = import_texts(text_project, "Great food")

    submit(crowd[0], task, [sentiment("Positive")])
    submit(crowd[1], task, [sentiment("Positive")])
    wait_for(lambda: nothing_due(task))
    assert consensus_of(task) is None  # two of three: the worker looked, and left it without one
    submit(crowd[2], task, [sentiment("Negative")])

    # No beat runs beside the test's worker, so no reconciliation: only the third annotation's trigger can do it.
    done = wait_for(lambda: consensus_of(task))
    assert done.consensus_result[0]["value"] == {"choices": ["Positive"]}
    # Mean over the config's controls: sentiment 1/3 (one agreeing pair of three), entities 1 (nobody marked any).
    assert done.agreement == pytest.approx((1 / 3 + 1) / 2)
    body = client_for(text_project.created_by).get(f"/api/tasks/{task.pk}/").json()
    assert body["consensus"]["agreement"] == pytest.approx(2 / 3) and body["consensus"]["method"] == "majority"


def test_adaptive_overlap_asks_for_one_more_annotator_only_on_disagreement(worker, text_project, crowd):
    client_for(text_project.created_by).patch(f"/api/projects/{text_project.pk}/", {
        "overlap": 2, "adaptive_overlap": True, "max_overlap": 3, "agreement_threshold": 0.8,
    }, format="json")
    agreed, disputed = import_texts(text_project, "Great food", "Odd food")

    submit(crowd[0], agreed, [sentiment("Positive")])
    submit(crowd[1], agreed, [sentiment("Positive")])
    submit(crowd[0], disputed, [sentiment("Positive")])
    submit(crowd[1], disputed, [sentiment("Negative")])

    wait_for(lambda: consensus_of(agreed))
    reopened = wait_for(lambda: Task.objects.filter(pk=disputed.pk, extra_annotations=1, is_finished=False).first())
    agreed.refresh_from_db()
    assert (agreed.extra_annotations, agreed.is_finished, agreed.review_status) == (0, True, "")
    assert client_for(crowd[2]).get(f"/api/projects/{text_project.pk}/next/").json()["id"] == reopened.pk

    before_third = timezone.now()
    submit(crowd[2], disputed, [sentiment("Negative")])
    settled = wait_for(lambda: Task.objects.filter(pk=disputed.pk, is_finished=True, consensus_at__gt=before_third).first())
    assert settled.agreement < 0.8
    assert settled.consensus_result[0]["value"] == {"choices": ["Negative"]}
    # At max_overlap and still below the threshold: a reviewer decides.
    wait_for(lambda: Task.objects.filter(pk=disputed.pk, review_status="pending").exists())


def test_without_adaptive_overlap_disagreement_goes_to_review(worker, text_project, crowd):
    text_project.overlap = 2
    text_project.save()
    (task,) = import_texts(text_project, "Odd food")

    submit(crowd[0], task, [sentiment("Positive")])
    submit(crowd[1], task, [sentiment("Negative")])

    wait_for(lambda: Task.objects.filter(pk=task.pk, review_status="pending").exists())
    assert client_for(text_project.created_by).get(f"/api/projects/{text_project.pk}/review/next/").json()["id"] == task.pk


def test_the_project_recompute_job_scores_annotators_and_gold_accuracy(worker, text_project, crowd):
    text_project.overlap = 3
    text_project.save()
    tasks = import_texts(text_project, *[f"text {i}" for i in range(30)])
    gold = tasks[:5]
    Task.objects.filter(pk__in=[t.pk for t in gold]).update(is_gold=True, gold_result=[sentiment("Positive")])
    careless = crowd[3]
    for index, task in enumerate(tasks):
        truth = "Positive" if index % 2 == 0 or task in gold else "Negative"
        for person in crowd[:2]:
            submit(person, task, [sentiment(truth)])
        submit(careless, task, [sentiment("Neutral")])

    response = client_for(text_project.created_by).post(f"/api/projects/{text_project.pk}/consensus/")
    assert response.status_code == 202
    job = wait_for_job(response.json()["id"])

    assert job.status == "succeeded", job.error
    assert job.result["tasks"] == 30
    scores = {s.user_id: s for s in AnnotatorScore.objects.filter(project=text_project)}
    assert scores[crowd[0].pk].gold_accuracy == 1.0 and scores[crowd[0].pk].gold_count == 5
    assert scores[careless.pk].gold_accuracy == 0.0
    assert scores[crowd[0].pk].consensus_agreement == 1.0 and scores[careless.pk].consensus_agreement == 0.0
    annotators = client_for(text_project.created_by).get(f"/api/projects/{text_project.pk}/annotators/").json()
    assert {row["username"] for row in annotators} == {"person0", "person1", "person3"}
    assert all(row["few_tasks"] is False for row in annotators)
    agreement = client_for(text_project.created_by).get(f"/api/projects/{text_project.pk}/agreement/").json()
    assert agreement["tasks"] == 30 and len(agreement["histogram"]) == 10
    assert agreement["overall"]["mean_task_agreement"] == pytest.approx(2 / 3)  # sentiment 1/3, no entities 1
    assert agreement["overall"]["kappa"] is not None and agreement["overall"]["alpha"] is not None


def test_a_box_project_gets_a_fused_box(worker, image_project, make_user):
    from tests.api_helpers import import_tasks

    people = [make_user(f"boxer{i}") for i in range(2)]
    for person in people:
        services.add_member(project=image_project, user=person, role=Role.ANNOTATOR)
    image_project.overlap = 2
    image_project.save()
    (task,) = import_tasks(image_project, [{"image": "https://example.com/a.png"}])

    submit(people[0], task, [box(10, 10, 20, 20)])
    submit(people[1], task, [box(12, 10, 20, 20)])

    done = wait_for(lambda: consensus_of(task))
    value = done.consensus_result[0]["value"]
    assert value["rectanglelabels"] == ["Face"] and value["x"] == pytest.approx(11)
    assert done.agreement == 1.0


CHOICES_ONLY = """<View><Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/></Choices>
</View>"""


def test_a_choices_only_project_is_recomputed_from_the_label_arrays_with_dawid_skene(worker, manager, crowd):
    project = services.create_project(creator=manager, title="Sentiment", label_config=CHOICES_ONLY, overlap=3)
    project.aggregation_method = "dawid_skene"
    project.save()
    for person in crowd:
        services.add_member(project=project, user=person, role=Role.ANNOTATOR)
    tasks = import_texts(project, *[f"text {i}" for i in range(24)])
    Task.objects.filter(pk=tasks[1].pk).update(is_gold=True, gold_result=[sentiment("Positive")])
    reliable, also_reliable, contrarian = crowd[0], crowd[1], crowd[2]
    for index, task in enumerate(tasks):
        truth = "Positive" if index % 3 else "Negative"
        submit(reliable, task, [sentiment(truth)])
        submit(also_reliable, task, [sentiment(truth)])
        submit(contrarian, task, [sentiment("Negative" if truth == "Positive" else "Positive")])

    job = wait_for_job(client_for(manager).post(f"/api/projects/{project.pk}/consensus/").json()["id"])

    assert job.status == "succeeded", job.error
    assert job.result["method"] == "dawid_skene" and job.result["tasks"] == 24
    for index, task in enumerate(tasks):
        task.refresh_from_db()
        assert task.consensus_result[0]["value"]["choices"] == ["Positive" if index % 3 else "Negative"]
        assert task.consensus_method == "dawid_skene" and task.agreement == pytest.approx(1 / 3)
    scores = {s.user_id: s for s in AnnotatorScore.objects.filter(project=project)}
    assert scores[reliable.pk].consensus_agreement == 1.0 and scores[contrarian.pk].consensus_agreement == 0.0
    assert scores[reliable.pk].reliability > 0.8 > 0.2 > scores[contrarian.pk].reliability
    assert (scores[reliable.pk].gold_count, scores[reliable.pk].gold_accuracy) == (1, 1.0)
    assert scores[contrarian.pk].gold_accuracy == 0.0
    assert set(scores[reliable.pk].confusion) == {"sentiment"}

    # A task finished after the fit is merged with the stored confusion matrices, no refit needed.
    (late,) = import_texts(project, "late text")
    for person in (reliable, also_reliable, contrarian):
        submit(person, late, [sentiment("Positive" if person != contrarian else "Negative")])
    merged = wait_for(lambda: consensus_of(late))
    assert merged.consensus_method == "dawid_skene" and merged.consensus_result[0]["value"]["choices"] == ["Positive"]
    assert merged.consensus_confidence > 0.9


def test_a_recompute_can_be_cancelled(worker, text_project, crowd):
    from quality import recompute
    from projects import jobs

    job = recompute.start_recompute(project=text_project, user=text_project.created_by)
    jobs.request_cancel(job)

    assert wait_for_job(job.pk).status == "cancelled"
