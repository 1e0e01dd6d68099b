"""Where a task goes after its consensus: one more annotator, review, or nowhere (decided without a database)."""
import pytest

from projects.models import Project, ReviewStatus, Task
from quality.consensus import routing_decision, sampled_for_review

PROJECT = Project(overlap=2, agreement_threshold=0.6, adaptive_overlap=True, max_overlap=3, review_sample_rate=0.0)


@pytest.mark.parametrize("task, agreement, decision", [
    (Task(pk=1), 0.9, None),
    (Task(pk=1), None, None),  # one annotator: no agreement to judge
    (Task(pk=1), 0.5, "more"),
    (Task(pk=1, extra_annotations=1), 0.5, "review"),  # at max_overlap already
    (Task(pk=1, is_gold=True), 0.0, None),  # gold disagreement scores annotators; the answer is known
    (Task(pk=1, review_status=ReviewStatus.ACCEPTED), 0.1, None),  # a reviewer settled it
    (Task(pk=1, review_status=ReviewStatus.PENDING), 0.1, None),  # already waiting
    (Task(pk=1, review_status=ReviewStatus.REJECTED), 0.1, "more"),  # the fresh set disagrees again
])
def test_routing(task, agreement, decision):
    assert routing_decision(task, PROJECT, agreement) == decision


def test_without_adaptive_overlap_disagreement_goes_straight_to_review():
    project = Project(overlap=2, agreement_threshold=0.6, adaptive_overlap=False, max_overlap=5, review_sample_rate=0.0)

    assert routing_decision(Task(pk=1), project, 0.5) == "review"


def test_the_review_sample_is_a_stable_share_of_task_ids():
    sampled = [task_id for task_id in range(1, 10001) if sampled_for_review(task_id, 0.1)]

    assert 900 < len(sampled) < 1100
    # The same ids in every process and every release: a recompute never moves a task in or out of the sample.
    assert sampled[:6] == [5, 13, 26, 34, 47, 60]
    assert not any(sampled_for_review(task_id, 0.0) for task_id in range(1, 1000))


def test_an_agreed_task_goes_to_review_only_when_it_is_in_the_sample():
    project = Project(overlap=2, agreement_threshold=0.6, adaptive_overlap=True, max_overlap=3, review_sample_rate=0.1)

    assert routing_decision(Task(pk=5), project, 0.9) == "review"
    assert routing_decision(Task(pk=6), project, 0.9) is None
    assert routing_decision(Task(pk=5, is_gold=True), project, 0.9) is None
