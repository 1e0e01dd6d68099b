"""Review through the API and the reviewer's page: accept an annotation or the consensus, edit, reject; pending tasks
leased to one reviewer at a time; a decision on a task already decided is refused."""
from datetime import timedelta

import pytest
from django.utils import timezone

from projects import services
from projects.models import ReviewStatus, Role, Task
from tests.api_helpers import import_texts, sentiment, span, submit
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
TEXT = "Alice flew to Paris"


@pytest.fixture
def doubtful_task(text_project, annotator, other_annotator):
    """A task two annotators disagree on, with a consensus, waiting for review."""
    text_project.overlap = 2
    text_project.save()
    (task,) = import_texts(text_project, TEXT)
    first = submit(annotator, task, [sentiment("Positive"), span(TEXT, 0, 5, "PER")]).json()["id"]
    second = submit(other_annotator, task, [sentiment("Negative"), span(TEXT, 14, 19, "LOC")]).json()["id"]
    Task.objects.filter(pk=task.pk).update(
        consensus_result=[sentiment("Positive")], agreement=0.0, consensus_method="majority",
        consensus_at="2026-11-23T10:00Z", review_status=ReviewStatus.PENDING,
    )
    return task, first, second


def decide(user, task, **body):
    return client_for(user).post(f"/api/tasks/{task.pk}/review/", body, format="json")


def test_the_reviewer_gets_the_waiting_task_with_every_annotation_and_the_consensus(text_project, reviewer, doubtful_task):
    task, first, second = doubtful_task

    body = client_for(reviewer).get(f"/api/projects/{text_project.pk}/review/next/").json()

    assert body["id"] == task.pk
    assert [a["id"] for a in body["annotations"]] == [first, second]
    assert body["consensus"]["result"] == [sentiment("Positive")] and body["review"]["status"] == "pending"


def test_accepting_an_annotation_makes_it_the_final_result_and_records_who(reviewer, doubtful_task):
    task, _, second = doubtful_task

    response = decide(reviewer, task, action="accept", annotation=second)

    assert response.status_code == 200
    review = response.json()["review"]
    assert review["status"] == "accepted" and review["reviewed_by"] == reviewer.pk and review["reviewed_at"]
    assert review["result"] == [sentiment("Negative"), span(TEXT, 14, 19, "LOC")]


def test_accepting_the_consensus(reviewer, doubtful_task):
    task, _, _ = doubtful_task

    review = decide(reviewer, task, action="accept").json()["review"]

    assert review["status"] == "accepted" and review["result"] == [sentiment("Positive")]


def test_editing_stores_the_reviewers_result_after_checking_it(reviewer, doubtful_task):
    task, _, _ = doubtful_task

    bad = decide(reviewer, task, action="edit", result=[sentiment("Ecstatic")])
    good = decide(reviewer, task, action="edit", result=[sentiment("Neutral")])

    assert bad.status_code == 400 and "Ecstatic" in str(bad.json())
    assert good.json()["review"] == {**good.json()["review"], "status": "edited", "result": [sentiment("Neutral")]}


def test_rejecting_sends_the_task_back_for_a_fresh_set_of_annotators(text_project, reviewer, doubtful_task, make_user):
    task, _, _ = doubtful_task
    newcomer = make_user("newcomer")
    services.add_member(project=text_project, user=newcomer, role=Role.ANNOTATOR)

    response = decide(reviewer, task, action="reject")

    task.refresh_from_db()
    assert response.json()["review"]["status"] == "rejected"
    assert (task.is_finished, task.extra_annotations) == (False, 2)
    assert client_for(newcomer).get(f"/api/projects/{text_project.pk}/next/").json()["id"] == task.pk
    assert client_for(reviewer).get(f"/api/projects/{text_project.pk}/review/next/").status_code == 204


@pytest.mark.parametrize("body, message", [
    ({"action": "approve"}, "not a valid choice"),
    ({"action": "edit"}, "edit needs the corrected result"),
    ({"action": "accept", "annotation": 999999}, "is not a submitted annotation of task"),
])
def test_bad_review_requests_are_400_with_the_reason(reviewer, doubtful_task, body, message):
    task, _, _ = doubtful_task

    response = decide(reviewer, task, **body)

    assert response.status_code == 400 and message in str(response.json())


def test_annotators_cannot_review(annotator, doubtful_task):
    task, first, _ = doubtful_task

    response = decide(annotator, task, action="accept", annotation=first)

    assert response.status_code == 403
    task.refresh_from_db()
    assert task.review_status == ReviewStatus.PENDING


def test_outsiders_do_not_learn_the_task_exists(outsider, doubtful_task):
    task, _, _ = doubtful_task

    assert decide(outsider, task, action="accept").status_code == 404


def test_the_review_page_shows_annotations_side_by_side_and_records_a_decision(client, text_project, reviewer, doubtful_task):
    task, first, _ = doubtful_task
    client.force_login(reviewer)

    page = client.get(f"/projects/{text_project.pk}/review/").content.decode()
    assert "annotator" in page and "other_annotator" in page and "Consensus" in page
    assert '<mark title="PER">Alice<sup>PER</sup></mark>' in page and '<mark title="LOC">Paris<sup>LOC</sup></mark>' in page

    response = client.post(f"/projects/{text_project.pk}/review/", {"task": task.pk, "action": "accept", "annotation": first})

    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.review_status, task.reviewed_by_id) == (ReviewStatus.ACCEPTED, reviewer.pk)
    assert "Nothing waits for review" in client.get(f"/projects/{text_project.pk}/review/").content.decode()


def test_the_review_page_is_closed_to_annotators(client, text_project, annotator):
    client.force_login(annotator)

    assert client.get(f"/projects/{text_project.pk}/review/").status_code == 403


def test_the_project_page_links_reviewers_to_the_waiting_tasks(client, text_project, reviewer, annotator, doubtful_task):
    client.force_login(reviewer)
    assert "Review (1 waiting)" in client.get(f"/projects/{text_project.pk}/").content.decode()

    client.force_login(annotator)
    page = client.get(f"/projects/{text_project.pk}/")
    assert page.status_code == 200 and "Review (" not in page.content.decode()


@pytest.fixture
def second_reviewer(make_user, text_project):
    user = make_user("second_reviewer")
    services.add_member(project=text_project, user=user, role=Role.REVIEWER)
    return user


@pytest.fixture
def two_doubtful_tasks(text_project, doubtful_task, annotator, other_annotator):
    """doubtful_task and a second task waiting for review after it."""
    (later,) = import_texts(text_project, "Bob stayed in Rome")
    submit(annotator, later, [sentiment("Positive")])
    submit(other_annotator, later, [sentiment("Negative")])
    Task.objects.filter(pk=later.pk).update(review_status=ReviewStatus.PENDING)
    return doubtful_task[0], later


def next_to_review(user, project):
    return client_for(user).get(f"/api/projects/{project.pk}/review/next/")


def test_two_reviewers_are_handed_different_tasks_and_each_keeps_theirs(text_project, reviewer, second_reviewer, two_doubtful_tasks):
    first, second = two_doubtful_tasks

    mine, theirs = next_to_review(reviewer, text_project).json(), next_to_review(second_reviewer, text_project).json()

    assert (mine["id"], theirs["id"]) == (first.pk, second.pk)
    assert next_to_review(reviewer, text_project).json()["id"] == first.pk  # a reload resumes the same task
    assert next_to_review(second_reviewer, text_project).json()["id"] == second.pk


def test_a_reviewer_finds_nothing_while_the_only_waiting_task_is_leased_to_another(text_project, reviewer, second_reviewer, doubtful_task):
    assert next_to_review(reviewer, text_project).status_code == 200

    assert next_to_review(second_reviewer, text_project).status_code == 204


def test_an_expired_review_lease_frees_the_task_for_another_reviewer(text_project, reviewer, second_reviewer, doubtful_task, monkeypatch):
    task, _, _ = doubtful_task
    assert next_to_review(reviewer, text_project).json()["id"] == task.pk

    later = timezone.now() + timedelta(minutes=text_project.lease_minutes, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert next_to_review(second_reviewer, text_project).json()["id"] == task.pk
    assert next_to_review(reviewer, text_project).status_code == 204  # the task is the other reviewer's now


def test_a_decision_frees_the_lease_and_the_reviewer_gets_the_next_task(text_project, reviewer, two_doubtful_tasks):
    first, second = two_doubtful_tasks
    assert next_to_review(reviewer, text_project).json()["id"] == first.pk

    assert decide(reviewer, first, action="accept").status_code == 200

    assert next_to_review(reviewer, text_project).json()["id"] == second.pk
    first.refresh_from_db()
    assert (first.review_leased_to_id, first.review_lease_until) == (None, None)


def test_deciding_a_task_already_decided_is_a_409_and_keeps_the_first_decision(reviewer, second_reviewer, doubtful_task):
    task, first, second = doubtful_task
    assert decide(reviewer, task, action="accept", annotation=first).status_code == 200

    late = decide(second_reviewer, task, action="reject")

    assert late.status_code == 409 and "does not wait for review" in late.json()["detail"]
    task.refresh_from_db()
    assert (task.review_status, task.reviewed_by_id, task.extra_annotations) == (ReviewStatus.ACCEPTED, reviewer.pk, 0)


def test_a_task_never_sent_to_review_cannot_be_decided(text_project, reviewer):
    (task,) = import_texts(text_project, TEXT)

    assert decide(reviewer, task, action="reject").status_code == 409


def test_the_review_page_says_when_another_reviewer_decided_first(client, text_project, reviewer, second_reviewer, doubtful_task):
    task, first, _ = doubtful_task
    decide(second_reviewer, task, action="accept", annotation=first)
    client.force_login(reviewer)

    page = client.post(f"/projects/{text_project.pk}/review/", {"task": task.pk, "action": "reject"}, follow=True).content.decode()

    assert f"Task {task.pk} was not changed" in page and "does not wait for review" in page
    task.refresh_from_db()
    assert (task.review_status, task.reviewed_by_id) == (ReviewStatus.ACCEPTED, second_reviewer.pk)


@pytest.mark.parametrize("button, expected", [
    ({"action": "accept"}, ReviewStatus.ACCEPTED),
    ({"action": "reject"}, ReviewStatus.REJECTED),
    ({"action": "edit", "result": '[{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Neutral"]}}]'}, ReviewStatus.EDITED),
])
def test_the_review_page_posts_the_apis_decision_names(client, text_project, reviewer, doubtful_task, button, expected):
    task, _, _ = doubtful_task
    client.force_login(reviewer)

    client.post(f"/projects/{text_project.pk}/review/", {"task": task.pk, **button})

    task.refresh_from_db()
    assert task.review_status == expected
    assert task.reviewed_result == {"accept": [sentiment("Positive")], "reject": None, "edit": [sentiment("Neutral")]}[button["action"]]


@pytest.mark.parametrize("annotators", [2, 12])
def test_review_next_costs_four_queries_however_many_annotations(text_project, reviewer, make_user, annotators, django_assert_num_queries):
    """The project with the reviewer's role, the lease (claimed and read in one statement), annotations, predictions."""
    (task,) = import_texts(text_project, TEXT)
    for n in range(annotators):
        author = make_user(f"author{n}")
        services.add_member(project=text_project, user=author, role=Role.ANNOTATOR)
        submit(author, task, [sentiment("Positive")])
    Task.objects.filter(pk=task.pk).update(review_status=ReviewStatus.PENDING)
    client = client_for(reviewer)

    with django_assert_num_queries(4):
        response = client.get(f"/api/projects/{text_project.pk}/review/next/")

    assert response.status_code == 200 and len(response.json()["annotations"]) == annotators
