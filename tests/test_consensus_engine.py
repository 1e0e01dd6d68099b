"""The consensus engine per task (choices, boxes, spans, text), agreement statistics against published values,
and annotator quality: plain data in and out, no database."""
import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from quality.engine import (AnnotationRow, annotator_quality, choices_agreement_summary, encode_crowd_labels,
                               fleiss_kappa, krippendorff_alpha_nominal, pairwise_agreement, specific_agreement,
                               summarize_agreement)
from quality.engine.boxes import iou_matrix
from quality.merging import aggregate_task, aggregate_task_result, agreement_with_consensus

SENTIMENT = {"name": "sentiment", "to_name": "text", "type": "choices", "multiple": False,
             "values": ["Positive", "Negative", "Neutral"]}
TOPICS = {"name": "topics", "to_name": "text", "type": "choices", "multiple": True,
          "values": ["Sport", "Politics", "Tech"]}
ENTITIES = {"name": "entities", "to_name": "text", "type": "labels", "values": ["PER", "LOC", "ORG"]}
BOX = {"name": "box", "to_name": "image", "type": "rectanglelabels", "values": ["Car", "Person"]}
NOTE = {"name": "note", "to_name": "text", "type": "textarea"}


def choice(*values, name="sentiment"):
    return [{"id": "x", "from_name": name, "to_name": "text", "type": "choices", "value": {"choices": list(values)}}]


def box(x, y, width, height, label="Car"):
    return {"from_name": "box", "to_name": "image", "type": "rectanglelabels", "original_width": 640,
            "original_height": 480, "value": {"x": x, "y": y, "width": width, "height": height, "rotation": 0,
                                              "rectanglelabels": [label]}}


def span(start, end, text, label="LOC"):
    return {"from_name": "entities", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": text, "labels": [label]}}


def chosen(outcome):
    return [item["value"]["choices"] for item in outcome.result]


# --- choices -------------------------------------------------------------------------------------------------

def test_majority_wins_with_pairwise_agreement_and_vote_share():
    outcome = aggregate_task(SENTIMENT, [(1, choice("Positive")), (2, choice("Negative")), (3, choice("Positive"))])
    assert chosen(outcome) == [["Positive"]]
    assert outcome.agreement == pytest.approx(1 / 3)  # of the 3 pairs, only (1, 3) agrees
    assert outcome.confidence == pytest.approx(2 / 3)
    assert outcome.method == "majority" and "tie" not in outcome.details
    assert outcome.details["votes"] == {"Positive": 2, "Negative": 1}
    assert outcome.result[0]["from_name"] == "sentiment" and outcome.result[0]["to_name"] == "text"


def test_two_two_tie_breaks_the_same_way_every_time_and_says_so():
    annotations = [(1, choice("Positive")), (2, choice("Negative")), (3, choice("Negative")), (4, choice("Positive"))]
    first = aggregate_task(SENTIMENT, annotations, task_key=42)
    again = aggregate_task(SENTIMENT, list(reversed(annotations)), task_key=42)
    assert chosen(first) == chosen(again) and first.result == again.result
    assert first.details["tie"] == {"between": ["Positive", "Negative"], "broken_by": "seeded_random"}
    assert first.confidence == 0.5


def test_one_one_one_ties_are_not_biased_toward_the_first_value():
    annotations = [(1, choice("Positive")), (2, choice("Negative")), (3, choice("Neutral"))]
    winners = [chosen(aggregate_task(SENTIMENT, annotations, task_key=key))[0][0] for key in range(300)]
    assert {winner: winners.count(winner) for winner in set(winners)}.keys() == {"Positive", "Negative", "Neutral"}
    assert all(70 < winners.count(value) < 130 for value in ("Positive", "Negative", "Neutral"))
    assert aggregate_task(SENTIMENT, annotations, task_key=5).agreement == 0.0


def test_a_tie_goes_to_the_more_common_class_when_the_project_prior_is_given():
    annotations = [(1, choice("Positive")), (2, choice("Negative"))]
    for key in range(20):
        outcome = aggregate_task(SENTIMENT, annotations, task_key=key, class_prior=[0.2, 0.7, 0.1])
        assert chosen(outcome) == [["Negative"]]
        assert outcome.details["tie"]["broken_by"] == "preference"


def test_reliability_weights_outvote_two_unreliable_annotators():
    annotations = [(1, choice("Positive")), (2, choice("Positive")), (3, choice("Negative"))]
    outcome = aggregate_task(SENTIMENT, annotations, method="dawid_skene", reliability={1: 0.4, 2: 0.4, 3: 0.95})
    # one-coin posterior, K=3: Positive ∝ .4·.4·.025 = .004, Negative ∝ .3·.3·.95 = .0855, Neutral ∝ .3·.3·.025
    assert chosen(outcome) == [["Negative"]] and outcome.method == "dawid_skene"
    assert outcome.confidence == pytest.approx(0.0855 / (0.004 + 0.0855 + 0.00225))


def test_unknown_annotator_gets_the_population_reliability_and_no_reliability_falls_back_to_majority():
    annotations = [(1, choice("Positive")), (9, choice("Negative")), (3, choice("Negative"))]
    weighted = aggregate_task(SENTIMENT, annotations, method="dawid_skene", reliability={1: 0.6, 3: 0.8})
    assert chosen(weighted) == [["Negative"]]  # 9 is scored at 0.7, the mean
    fallback = aggregate_task(SENTIMENT, annotations, method="dawid_skene")
    assert fallback.method == "majority" and "fallback" in fallback.details


def test_one_annotator_is_the_consensus_with_no_agreement():
    outcome = aggregate_task(SENTIMENT, [(1, choice("Neutral"))])
    assert chosen(outcome) == [["Neutral"]]
    assert outcome.agreement is None and outcome.confidence == 1.0


def test_empty_answers_are_no_votes_and_nobody_answering_gives_an_empty_result():
    outcome = aggregate_task(SENTIMENT, [(1, []), (2, choice("Negative")), (3, choice("Gone from config"))])
    assert chosen(outcome) == [["Negative"]] and outcome.agreement is None and outcome.annotator_count == 1
    nothing = aggregate_task(SENTIMENT, [(1, []), (2, [])])
    assert nothing.result == [] and nothing.agreement is None and nothing.confidence is None
    assert aggregate_task(SENTIMENT, []).result == []


def test_multiple_choice_votes_each_choice_and_an_empty_selection_says_no():
    annotations = [(1, choice("Sport", "Tech", name="topics")), (2, choice("Sport", name="topics")), (3, [])]
    outcome = aggregate_task(TOPICS, annotations)
    assert chosen(outcome) == [["Sport"]]  # Sport 2 of 3, Tech 1 of 3, Politics 0
    assert outcome.agreement == pytest.approx((2 / 3 + 0 + 0) / 3)  # pairwise set F1
    assert outcome.confidence == pytest.approx(2 / 3)
    assert outcome.details["votes"] == {"Sport": 2, "Tech": 1}
    assert outcome.details["per_label"] == {"Sport": 0.5, "Tech": 0.0} and outcome.details["ties"] == []


def test_text_answers_agree_on_exact_trimmed_match():
    def note(text):
        return [{"from_name": "note", "to_name": "text", "type": "textarea", "value": {"text": [text]}}]
    outcome = aggregate_task(NOTE, [(1, note("blurry ")), (2, note("blurry")), (3, note("dark"))])
    assert outcome.result[0]["value"] == {"text": ["blurry"]} and outcome.agreement == pytest.approx(1 / 3)


def test_unsupported_control_type_is_refused_clearly():
    with pytest.raises(ValueError, match="polygonlabels"):
        aggregate_task({"name": "p", "type": "polygonlabels"}, [])


# --- rectangles ----------------------------------------------------------------------------------------------

def test_iou_by_hand():
    first = np.array([[0, 0, 10, 10]], dtype=float)
    second = np.array([[5, 0, 15, 10], [20, 20, 30, 30]], dtype=float)
    assert iou_matrix(first, second).tolist() == [[pytest.approx(50 / 150), 0.0]]


def test_matched_boxes_fuse_to_the_per_edge_median_and_the_label_vote():
    annotations = [(1, [box(10, 10, 20, 20)]), (2, [box(12, 10, 20, 22)]), (3, [box(11, 14, 20, 20, "Person")])]
    outcome = aggregate_task(BOX, annotations)
    assert len(outcome.result) == 1
    item = outcome.result[0]
    # x1: 10, 12, 11 -> 11; y1: 10, 10, 14 -> 10; x2: 30, 32, 31 -> 31; y2: 30, 32, 34 -> 32
    assert item["value"] == {"x": 11.0, "y": 10.0, "width": 20.0, "height": 22.0, "rotation": 0.0,
                             "rectanglelabels": ["Car"]}
    assert item["original_width"] == 640 and item["type"] == "rectanglelabels"
    assert outcome.details["kept_boxes"] == 1 and outcome.details["matched_share"] == 1.0
    assert 0.7 < outcome.details["mean_iou"] < 1.0
    assert outcome.agreement == pytest.approx(1 / 3)  # only 1-2 agree: a Person box does not match a Car box
    mean = aggregate_task(BOX, annotations, box_fusion="mean").result[0]["value"]
    assert mean["x"] == pytest.approx(11.0) and mean["height"] == pytest.approx(32 - 34 / 3)


def test_boxes_without_a_match_are_dropped_by_default_and_kept_with_min_votes_one():
    annotations = [(1, [box(0, 0, 10, 10)]), (2, [box(50, 50, 10, 10)])]
    dropped = aggregate_task(BOX, annotations)
    assert dropped.result == [] and dropped.details["dropped_boxes"] == 2
    assert dropped.agreement == 0.0 and dropped.details["mean_iou"] is None and dropped.confidence is None
    kept = aggregate_task(BOX, annotations, min_votes=1)
    assert [item["value"]["x"] for item in kept.result] == [0.0, 50.0]
    assert len({item["id"] for item in kept.result}) == 2


def test_iou_threshold_decides_what_matches():
    annotations = [(1, [box(0, 0, 10, 10)]), (2, [box(3, 0, 10, 10)])]  # IoU = 70 / 130 ≈ 0.54
    assert len(aggregate_task(BOX, annotations).result) == 1
    assert aggregate_task(BOX, annotations, iou_threshold=0.6).result == []


def test_an_annotator_who_drew_nothing_counts_toward_the_majority_needed():
    annotations = [(1, [box(0, 0, 10, 10)]), (2, [box(0, 0, 10, 10)]), (3, []), (4, [])]
    outcome = aggregate_task(BOX, annotations)
    assert outcome.details["min_votes"] == 3 and outcome.result == []
    assert outcome.agreement == pytest.approx((1 + 0 + 0 + 0 + 0 + 1) / 6)  # the two empty answers agree


def test_two_boxes_of_one_annotator_on_one_object_vote_once():
    annotations = [(1, [box(0, 0, 10, 10), box(1, 0, 10, 10)]), (2, [box(0, 0, 10, 10)])]
    outcome = aggregate_task(BOX, annotations, min_votes=2)
    assert len(outcome.result) == 1 and outcome.details["dropped_boxes"] == 1


def test_one_annotator_boxes_are_kept_with_no_agreement_and_empty_results_agree():
    outcome = aggregate_task(BOX, [(1, [box(0, 0, 10, 10), box(40, 40, 5, 5)])])
    assert len(outcome.result) == 2 and outcome.agreement is None
    empty = aggregate_task(BOX, [(1, []), (2, [])])
    assert empty.result == [] and empty.agreement == 1.0


def test_a_label_tie_on_a_box_is_broken_by_the_seed_and_recorded():
    outcome = aggregate_task(BOX, [(1, [box(0, 0, 10, 10, "Car")]), (2, [box(0, 0, 10, 10, "Person")])], task_key=1)
    assert outcome.details["boxes"][0]["label_tie"]["between"] == ["Car", "Person"]
    assert outcome.details["per_label"] == {"Car": 0.0, "Person": 0.0}


# --- spans ---------------------------------------------------------------------------------------------------

def test_character_vote_keeps_what_a_majority_marked():
    text = "I live in New York City."
    annotations = [(1, [span(10, 18, "New York")]), (2, [span(10, 23, "New York City")]),
                   (3, [span(10, 18, "New York")])]
    outcome = aggregate_task(ENTITIES, annotations)
    assert [item["value"] for item in outcome.result] == [
        {"start": 10, "end": 18, "text": "New York", "labels": ["LOC"]}]
    assert outcome.agreement == pytest.approx((0 + 1 + 0) / 3)  # strict span F1: only 1 and 3 match exactly
    assert outcome.details["per_label"] == {"LOC": pytest.approx(1 / 3)}
    with_text = aggregate_task(ENTITIES, annotations, text=text)
    assert with_text.result == outcome.result


def test_overlapping_spans_of_different_labels_both_survive():
    annotations = [(1, [span(0, 16, "Bank of England", "ORG"), span(8, 16, "England", "LOC")]),
                   (2, [span(0, 16, "Bank of England", "ORG"), span(8, 16, "England", "LOC")]),
                   (3, [span(0, 16, "Bank of England", "ORG")])]
    outcome = aggregate_task(ENTITIES, annotations)
    assert [(item["value"]["start"], item["value"]["end"], item["value"]["labels"]) for item in outcome.result] == [
        (0, 16, ["ORG"]), (8, 16, ["LOC"])]
    assert outcome.details["per_label"]["ORG"] == 1.0
    assert outcome.agreement == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)


def test_overlapping_spans_of_one_annotator_and_one_label_count_once():
    annotations = [(1, [span(0, 5, "Alice", "PER"), span(0, 3, "Ali", "PER")]), (2, []), (3, [])]
    assert aggregate_task(ENTITIES, annotations).result == []  # one vote of three, not two


def test_unicode_spans_keep_python_string_offsets():
    text = "Café 😀 in Zürich — naïve"
    start = text.index("Zürich")
    annotations = [(1, [span(start, start + 6, "Zürich")]), (2, [span(start, start + 6, "Zürich")]), (3, [])]
    value = aggregate_task(ENTITIES, annotations).result[0]["value"]
    assert text[value["start"]:value["end"]] == value["text"] == "Zürich"


def test_no_spans_at_all_and_one_annotator():
    assert aggregate_task(ENTITIES, [(1, []), (2, [])]).agreement == 1.0
    single = aggregate_task(ENTITIES, [(1, [span(0, 3, "Bob", "PER")])])
    assert single.agreement is None and len(single.result) == 1


# --- whole task results --------------------------------------------------------------------------------------

def test_a_full_result_is_split_by_control_and_merged_with_deterministic_ids():
    def annotation(sentiment, spans):
        return choice(sentiment) + spans

    by_author = [(1, annotation("Positive", [span(0, 5, "Paris")])), (2, annotation("Positive", [span(0, 5, "Paris")])),
                 (3, annotation("Negative", []))]
    outcome = aggregate_task_result([SENTIMENT, ENTITIES, BOX], by_author, task_key=77)
    assert [item["from_name"] for item in outcome.result] == ["sentiment", "entities"]
    controls = outcome.details["controls"]
    assert outcome.agreement == pytest.approx((controls["sentiment"].agreement + controls["entities"].agreement
                                               + controls["box"].agreement) / 3)
    assert outcome.method == "mixed" and outcome.confidence == pytest.approx(2 / 3)
    again = aggregate_task_result([SENTIMENT, ENTITIES, BOX], list(reversed(by_author)), task_key=77)
    assert again.result == outcome.result
    assert len({item["id"] for item in outcome.result}) == 2
    other_task = aggregate_task_result([SENTIMENT, ENTITIES], by_author, task_key=78)
    assert other_task.result[0]["id"] != outcome.result[0]["id"]


def test_agreement_with_consensus_uses_the_controls_own_scale():
    consensus = [box(0, 0, 10, 10), box(50, 50, 10, 10)]
    assert agreement_with_consensus(BOX, [box(0, 0, 10, 10)], consensus) == pytest.approx(2 / 3)
    assert agreement_with_consensus(SENTIMENT, choice("Positive"), choice("Positive")) == 1.0


# --- agreement statistics against published values -----------------------------------------------------------

FLEISS_1971_WIKIPEDIA = np.array([
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])

# Krippendorff (2011) "Computing Krippendorff's alpha-reliability", nominal data with missing values: 4 observers,
# 12 units, published alpha = 0.743.
KRIPPENDORFF_2011 = [[1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None], [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
                     [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None], [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]]


def coder_table_counts(table, n_values):
    counts = np.zeros((len(table[0]), n_values))
    for coder in table:
        for unit, value in enumerate(coder):
            if value is not None:
                counts[unit, value - 1] += 1
    return counts


def test_fleiss_kappa_matches_the_published_worked_example():
    assert fleiss_kappa(FLEISS_1971_WIKIPEDIA) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_kappa_refuses_unequal_rater_counts():
    assert fleiss_kappa(np.array([[2, 1], [1, 1]])) is None
    assert fleiss_kappa(np.array([[1, 0], [0, 1]])) is None  # one rater each
    assert fleiss_kappa(np.array([[3, 0], [3, 0]])) is None  # one category: chance agreement is 1


def test_krippendorff_alpha_matches_the_published_example_with_missing_data():
    assert krippendorff_alpha_nominal(coder_table_counts(KRIPPENDORFF_2011, 5)) == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_alpha_binary_two_coders_published_value():
    coder_a, coder_b = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    counts = coder_table_counts([[a + 1 for a in coder_a], [b + 1 for b in coder_b]], 2)
    assert krippendorff_alpha_nominal(counts) == pytest.approx(0.095, abs=5e-4)


def test_alpha_is_undefined_without_pairable_units_or_variation():
    assert krippendorff_alpha_nominal(np.array([[1, 0], [0, 1]])) is None
    assert krippendorff_alpha_nominal(np.array([[2, 0], [3, 0]])) is None
    assert krippendorff_alpha_nominal(np.array([[2, 0], [0, 2]])) == 1.0


def test_pairwise_and_specific_agreement_by_hand():
    counts = np.array([[2, 1, 0], [3, 0, 0], [0, 0, 1]])
    agreement = pairwise_agreement(counts)
    assert agreement[:2].tolist() == [pytest.approx(1 / 3), 1.0] and math.isnan(agreement[2])
    # class 0: agreeing pairs 2 + 6 = 8 of possible 2·2 + 3·2 = 10; class 1: 0 of 2; class 2: no pairable task
    specific = specific_agreement(counts)
    assert specific[:2].tolist() == [pytest.approx(0.8), 0.0] and math.isnan(specific[2])


def test_project_summary_for_a_choice_control():
    rows = [(10, "ann", "A"), (10, "bob", "A"), (10, "cat", "B"), (11, "ann", "B"), (11, "bob", "B"),
            (11, "cat", "B"), (12, "ann", "A")]
    summary = choices_agreement_summary(encode_crowd_labels(rows, ["A", "B"]))
    assert summary.task_count == 2 and summary.overall == pytest.approx((1 / 3 + 1) / 2)
    assert summary.histogram == [0, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    assert summary.per_label == {"A": pytest.approx(0.5), "B": pytest.approx(6 / 8)}
    assert summary.fleiss_kappa is None  # task 12 has one rater
    assert summary.krippendorff_alpha == pytest.approx(krippendorff_alpha_nominal(np.array([[2, 1], [0, 3]])))


def test_summary_skips_tasks_without_agreement_and_averages_labels():
    summary = summarize_agreement([1.0, None, 0.5, float("nan"), 0.0], [{"Car": 1.0}, {"Car": 0.5, "Person": None}])
    assert summary.overall == 0.5 and summary.task_count == 3
    assert summary.histogram == [1, 0, 0, 0, 0, 1, 0, 0, 0, 1] and summary.per_label == {"Car": 0.75}
    assert summarize_agreement([]).overall is None


# --- annotator quality ---------------------------------------------------------------------------------------

def test_annotator_quality_by_hand():
    start = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    rows = [AnnotationRow("ann", task, answer, lead_time=10.0 + task, submitted_at=start + timedelta(minutes=minute))
            for task, answer, minute in [(1, "A", 0), (2, "B", 1), (3, "A", 2), (4, "A", 120)]]
    rows.append(AnnotationRow("bob", 1, "B", lead_time=30.0))
    report = {quality.annotator_id: quality for quality in annotator_quality(
        rows, gold={1: "A", 2: "A"}, consensus={3: "A", 4: "B"}, reliability={"ann": 0.8})}
    ann, bob = report["ann"], report["bob"]
    assert (ann.tasks_done, ann.gold_count, ann.gold_accuracy, ann.consensus_agreement) == (4, 2, 0.5, 0.5)
    assert ann.reliability == 0.8 and bob.reliability is None
    assert ann.median_lead_time == pytest.approx(12.5) and ann.few_tasks and ann.few_gold_tasks
    # two sessions (the 118-minute gap is a break): 11 s + 2 min, then 14 s -> 4 tasks in 145 s
    assert ann.tasks_per_active_hour == pytest.approx(4 / (145 / 3600))
    assert bob.tasks_per_active_hour == pytest.approx(120.0)  # no timestamps: 1 task in 30 s of lead time
    # population gold accuracy 1/3 (ann 1 of 2, bob 0 of 1); bob shrinks from 0 toward it
    assert bob.gold_accuracy == 0.0 and bob.gold_accuracy_shrunk == pytest.approx((0 + 10 / 3) / 11)


def test_consensus_scores_replace_equality_and_enough_tasks_clear_the_flag():
    rows = [AnnotationRow("ann", task, consensus_score=0.5) for task in range(25)]
    (quality,) = annotator_quality(rows)
    assert quality.consensus_agreement == 0.5 and quality.consensus_count == 25 and not quality.few_tasks
    assert quality.gold_accuracy is None and quality.tasks_per_active_hour is None
