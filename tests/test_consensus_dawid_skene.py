"""Project-level choices consensus: Dawid-Skene against majority vote on synthetic crowds with known truth,
gold clamping, shrinkage, tie-breaking and the compact label encoding. No database."""
import numpy as np
import pytest

from quality.engine import (CrowdLabels, encode_crowd_labels, encode_multiple_choice, fit_dawid_skene, majority_vote,
                               recommended_method)
from quality.engine.synthetic import macro_f1, simulate_crowd
from quality.engine.ties import BROKEN_BY_PREFERENCE, BROKEN_BY_SEED, NO_TIE
from quality.merging import aggregate_task

CROWD_KINDS = ["honest"] * 4 + ["spammer"] * 2 + ["biased"]  # 7 annotators: 2 spammers, 1 biased


@pytest.fixture(scope="module")
def crowd():
    return simulate_crowd(2000, CROWD_KINDS, n_classes=5, labels_per_task=3, seed=11)


def accuracy(predicted, truth):
    return float((predicted == truth).mean())


def test_dawid_skene_beats_majority_vote_with_spammers_and_a_biased_annotator(crowd):
    majority = accuracy(majority_vote(crowd.labels).label, crowd.truth)
    fit = fit_dawid_skene(crowd.labels)
    dawid_skene = accuracy(fit.label, crowd.truth)
    assert 0.55 < majority < 0.65
    assert dawid_skene > 0.75 and dawid_skene - majority > 0.12
    majority_f1 = macro_f1(majority_vote(crowd.labels).label, crowd.truth, 5)
    assert macro_f1(fit.label, crowd.truth, 5) > majority_f1 + 0.1
    assert fit.converged and fit.iterations < 100


def test_dawid_skene_finds_who_is_reliable(crowd):
    fit = fit_dawid_skene(crowd.labels)
    honest, spammers, biased = fit.reliability[:4], fit.reliability[4:6], fit.reliability[6]
    assert honest.min() > 0.6 and spammers.max() < 0.3 and biased < 0.35
    # the biased annotator's matrix is learned, not just a low accuracy: true k is mostly labelled k+1
    assert all(fit.confusion[6, k].argmax() == (k + 1) % 5 for k in range(5))


def test_posterior_confidence_separates_right_from_wrong_answers(crowd):
    fit = fit_dawid_skene(crowd.labels)
    right = fit.label == crowd.truth
    assert fit.confidence[right].mean() > fit.confidence[~right].mean() + 0.15
    assert np.allclose(fit.posterior.sum(axis=1), 1.0)


def test_gold_clamping_keeps_or_improves_accuracy(crowd):
    gold_tasks = np.arange(0, 2000, 20)
    others = np.setdiff1d(np.arange(2000), gold_tasks)
    without = fit_dawid_skene(crowd.labels)
    clamped = fit_dawid_skene(crowd.labels, gold=(gold_tasks, crowd.truth[gold_tasks]))
    assert np.array_equal(clamped.label[gold_tasks], crowd.truth[gold_tasks])
    before, after = (accuracy(fit.label[others], crowd.truth[others]) for fit in (without, clamped))
    assert after >= before - 0.005


def test_gold_rescues_a_crowd_whose_majority_is_biased():
    crowd = simulate_crowd(2000, ["biased"] * 4 + ["honest"] * 3, seed=3)
    gold = {int(task): int(crowd.truth[task]) for task in range(0, 2000, 20)}
    others = np.setdiff1d(np.arange(2000), list(gold))
    without = accuracy(fit_dawid_skene(crowd.labels).label[others], crowd.truth[others])
    clamped = accuracy(fit_dawid_skene(crowd.labels, gold=gold).label[others], crowd.truth[others])
    assert clamped > 0.85 and clamped > without + 0.3


def test_few_labels_shrink_toward_one_coin():
    # Annotator 2 labels two tasks, once wrongly; without shrinkage its row for class 0 would put all error mass
    # on class 1. With it, the off-diagonal stays close to even (one-coin).
    task = [0, 0, 1, 1, 2, 2, 3, 3, 0, 1]
    annotator = [0, 1, 0, 1, 0, 1, 0, 1, 2, 2]
    label = [0, 0, 1, 1, 2, 2, 3, 3, 1, 1]
    fit = fit_dawid_skene(CrowdLabels.from_indices(task, annotator, label, n_classes=4))
    off_diagonal = fit.confusion[2, 0, 1:]
    assert off_diagonal.max() - off_diagonal.min() < 0.1
    raw = fit_dawid_skene(CrowdLabels.from_indices(task, annotator, label, n_classes=4),
                          one_coin_strength=0.0, pseudo_count=1e-3)
    assert raw.confusion[2, 0, 1] > 0.9


def test_iteration_cap_is_reported():
    crowd = simulate_crowd(300, CROWD_KINDS, seed=1)
    fit = fit_dawid_skene(crowd.labels, max_iter=1)
    assert fit.iterations == 1 and not fit.converged


def test_unanimous_labels_by_hand_and_unlabelled_tasks():
    labels = CrowdLabels.from_indices([0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2], [1, 1, 1, 0, 0, 0],
                                      n_classes=2, n_tasks=3)
    fit = fit_dawid_skene(labels)
    assert fit.label.tolist() == [1, 0, -1]
    # three unanimous votes, but from annotators with two labels each: the priors keep the posterior humble
    assert 0.8 < fit.confidence[0] < 0.95 and fit.confidence[1] == pytest.approx(fit.confidence[0])
    vote = majority_vote(labels)
    assert vote.label.tolist() == [1, 0, -1] and vote.vote_share.tolist() == [1.0, 1.0, 0.0]


def test_empty_labels():
    labels = encode_crowd_labels([], ["A", "B"])
    assert labels.n_tasks == 0
    assert fit_dawid_skene(labels).label.shape == (0,) and majority_vote(labels).label.shape == (0,)


def test_majority_ties_follow_the_class_prior_then_the_task_seed():
    # Class 1 is the project's most common answer; task 0 is a 1-1 tie between 0 and 1.
    task = [0, 0, 1, 1, 1, 2, 2, 2]
    annotator = [0, 1, 0, 1, 2, 0, 1, 2]
    label = [0, 1, 1, 1, 1, 1, 1, 0]
    labels = CrowdLabels.from_indices(task, annotator, label, n_classes=3)
    prior_vote = majority_vote(labels)
    assert prior_vote.label[0] == 1 and prior_vote.tie_rule.tolist() == [BROKEN_BY_PREFERENCE, NO_TIE, NO_TIE]
    posterior = np.array([[0.9, 0.1, 0.0]] * 3)
    assert majority_vote(labels, posterior=posterior).label[0] == 0


def test_seeded_ties_are_reproducible_and_unbiased():
    n_tasks = 4000
    labels = CrowdLabels.from_indices(np.repeat(np.arange(n_tasks), 2), np.tile([0, 1], n_tasks),
                                      np.tile([0, 1], n_tasks), n_classes=2)
    first, second = majority_vote(labels, tie_break="seeded"), majority_vote(labels, tie_break="seeded")
    assert np.array_equal(first.label, second.label) and (first.tie_rule == BROKEN_BY_SEED).all()
    assert 0.45 < first.label.mean() < 0.55


def test_project_and_per_task_ties_agree_when_seeded_with_the_same_task_ids():
    rows = [(task_id, annotator, value) for task_id in range(100, 160)
            for annotator, value in (("ann", "A"), ("bob", "B"))]
    labels = encode_crowd_labels(rows, ["A", "B"])
    project = majority_vote(labels, tie_break="seeded")
    control = {"name": "c", "to_name": "text", "type": "choices", "values": ["A", "B"]}
    for task_id, winner in zip(labels.task_ids, project.label):
        annotations = [(author, [{"from_name": "c", "type": "choices", "value": {"choices": [value]}}])
                       for task, author, value in rows if task == task_id]
        per_task = aggregate_task(control, annotations, task_key=int(task_id))
        assert per_task.result[0]["value"]["choices"] == [["A", "B"][winner]]


def test_per_task_recompute_with_the_fit_reproduces_the_project_decision(crowd):
    fit = fit_dawid_skene(crowd.labels)
    classes = ["a", "b", "c", "d", "e"]
    control = {"name": "c", "to_name": "text", "type": "choices", "values": classes}
    matrices = fit.confusion_by_annotator()
    for task in range(0, 2000, 97):
        rows = np.flatnonzero(crowd.labels.task == task)
        annotations = [(int(crowd.labels.annotator[row]), [{"value": {"choices": [classes[crowd.labels.label[row]]]}}])
                       for row in rows]
        outcome = aggregate_task(control, annotations, method="dawid_skene", reliability=matrices,
                                 class_prior=fit.class_prior)
        assert outcome.result[0]["value"]["choices"] == [classes[fit.label[task]]]
        assert outcome.confidence == pytest.approx(fit.confidence[task])


def test_encoding_from_database_rows():
    rows = [(30, "ann", "Cat"), (30, "bob", "Dog"), (10, "ann", "Dog"), (10, "bob", "Bird"), (20, "bob", "Cat")]
    labels = encode_crowd_labels(rows, ["Cat", "Dog"])
    assert labels.task_ids.tolist() == [10, 20, 30] and labels.annotator_ids == ["ann", "bob"]
    assert labels.n_tasks == 3 and len(labels.label) == 4  # "Bird" is not a class: no vote
    assert labels.labels_per_task.tolist() == [1, 1, 2]
    fit = fit_dawid_skene(labels)
    assert set(fit.confusion_by_annotator()) == {"ann", "bob"}


def test_gold_answers_are_encoded_by_task_id_and_class_name():
    labels = encode_crowd_labels([(30, "ann", "Cat"), (10, "ann", "Dog"), (20, "bob", "Cat")], ["Cat", "Dog"])
    tasks, classes = labels.encode_gold({20: "Dog", 30: "Cat", 99: "Cat", 10: "Fish"})
    assert tasks.tolist() == [1, 2] and classes.tolist() == [1, 0]
    assert fit_dawid_skene(labels, gold=(tasks, classes)).label.tolist() == [1, 1, 0]


def test_multiple_choice_becomes_one_binary_problem_per_choice():
    problems = encode_multiple_choice([(1, "ann", {"Sport"}), (1, "bob", set()), (2, "ann", {"Sport", "Tech"})],
                                      ["Sport", "Tech"])
    assert problems["Sport"].classes == ["absent", "present"]
    assert problems["Sport"].label.tolist() == [1, 0, 1] and problems["Tech"].label.tolist() == [0, 0, 1]


def test_dawid_skene_is_recommended_once_annotators_have_history(crowd):
    assert recommended_method(crowd.labels) == "dawid_skene"
    assert recommended_method(CrowdLabels.from_indices([0, 1], [0, 1], [0, 1], n_classes=2)) == "majority"


def test_indices_are_validated():
    with pytest.raises(ValueError, match="same length"):
        CrowdLabels.from_indices([0, 1], [0], [0, 1], n_classes=2)
    with pytest.raises(ValueError, match="0..1"):
        CrowdLabels.from_indices([0], [0], [2], n_classes=2)
