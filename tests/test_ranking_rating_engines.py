"""The ranking and rating consensus engines on plain data, against answers worked out by hand or published."""
import numpy as np
import pytest

from quality.engine.agreement import krippendorff_alpha_interval, krippendorff_alpha_nominal
from quality.engine.ranking import aggregate_ranking, borda_order, borda_scores, kendalls_w, pairwise_support
from quality.engine.rating import aggregate_rating, median_rating, rating_alpha

RANKER = {"name": "rank", "to_name": "responses", "type": "ranker", "multiple": False, "values": []}
BUCKETED = {**RANKER, "values": ["good", "bad"]}
RATING = {"name": "score", "to_name": "answer", "type": "rating", "multiple": False, "values": []}

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers, 12 units, missing values.
OBSERVERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def ranked(order: list[str]) -> list[dict]:
    return [{"from_name": "rank", "value": {"ranker": {"rank": order}}}]


def rated(*stars: int, items: list[str] | None = None) -> list[dict]:
    return [{"from_name": "score", "value": {"rating": value}, **({"item_index": items[i]} if items else {})}
            for i, value in enumerate(stars)]


def test_krippendorffs_interval_alpha_matches_the_published_example():
    counts = np.zeros((12, 5))
    for observer in OBSERVERS:
        for unit, value in enumerate(observer):
            if value:
                counts[unit, value - 1] += 1
    assert krippendorff_alpha_nominal(counts) == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha_interval(counts, [1, 2, 3, 4, 5]) == pytest.approx(0.849, abs=5e-4)


def test_interval_alpha_is_undefined_without_pairs_or_variation():
    assert krippendorff_alpha_interval(np.array([[1, 0, 0]]), [1, 2, 3]) is None
    assert krippendorff_alpha_interval(np.array([[2, 0, 0], [2, 0, 0]]), [1, 2, 3]) is None


def test_borda_scores_and_kendalls_w_by_hand():
    rankings = [["a", "b", "c"], ["a", "b", "c"], ["c", "b", "a"]]
    assert borda_scores(rankings) == {"a": 4, "b": 3, "c": 2}
    assert borda_order(rankings, seed=1) == (["a", "b", "c"], [])
    # rank sums 5, 6, 7 around a mean of 6: S = 2, W = 12 * 2 / (9 * 24) = 1/9
    assert kendalls_w(rankings) == pytest.approx(1 / 9)
    assert kendalls_w([["a", "b", "c"]] * 4) == pytest.approx(1.0)
    assert kendalls_w([["a", "b"], ["b", "a"]]) == pytest.approx(0.0)
    assert kendalls_w([["a", "b", "c"]]) is None and kendalls_w([["a"], ["a"]]) is None
    assert pairwise_support(rankings, ["a", "b", "c"]) == pytest.approx(6 / 9)


def test_a_borda_tie_is_drawn_from_the_seed_the_same_way_every_time():
    rankings = [["a", "b"], ["b", "a"]]
    first = borda_order(rankings, seed=42)
    assert first[1] == [first[0]]  # one tied group, in the drawn order
    assert all(borda_order(rankings, seed=42) == first for _ in range(5))
    assert borda_order(list(reversed(rankings)), seed=42)[0] == first[0]  # not the order the answers came in
    winners = {borda_order(rankings, seed=seed)[0][0] for seed in range(40)}
    assert winners == {"a", "b"}


def test_ranking_consensus_is_the_borda_order_with_w_as_agreement():
    annotations = [(1, ranked(["r2", "r1", "r3"])), (2, ranked(["r2", "r3", "r1"])), (3, ranked(["r2", "r1", "r3"]))]
    outcome = aggregate_ranking(RANKER, annotations, seed=7)
    assert [item["value"] for item in outcome.result] == [{"ranker": {"rank": ["r2", "r1", "r3"]}}]
    # rank sums r2 3, r1 7, r3 8 around 6: S = 9 + 1 + 4 = 14, W = 12 * 14 / (9 * 24)
    assert outcome.agreement == pytest.approx(168 / 216)
    assert outcome.method == "borda" and outcome.annotator_count == 3
    assert outcome.details["borda"] == {"r2": 6, "r1": 2, "r3": 1}


def test_one_ranking_is_the_consensus_with_no_agreement_and_none_is_nothing():
    one = aggregate_ranking(RANKER, [(1, ranked(["b", "a"]))], seed=1)
    assert one.result[0]["value"] == {"ranker": {"rank": ["b", "a"]}} and one.agreement is None
    assert aggregate_ranking(RANKER, [(1, [])], seed=1).result == []


def test_a_ranking_of_other_items_is_left_out():
    annotations = [(1, ranked(["a", "b"])), (2, ranked(["b", "a"])), (3, ranked(["a", "b"])), (4, ranked(["x", "a"]))]
    outcome = aggregate_ranking(RANKER, annotations, seed=3)
    assert outcome.result[0]["value"]["ranker"]["rank"] == ["a", "b"] and outcome.details["left_out"] == 1


def test_buckets_go_by_plurality_and_are_ordered_by_borda():
    def answer(good, bad):
        return [{"from_name": "rank", "value": {"ranker": {"good": good, "bad": bad}}}]
    annotations = [(1, answer(["r1", "r2"], ["r3"])), (2, answer(["r2", "r1"], ["r3"])), (3, answer(["r2"], ["r1", "r3"]))]
    outcome = aggregate_ranking(BUCKETED, annotations, seed=5)
    # r1 is "good" twice of three; full rankings r1 r2 r3 / r2 r1 r3 / r2 r1 r3: Borda r2 5, r1 4, r3 0
    assert outcome.result[0]["value"] == {"ranker": {"good": ["r2", "r1"], "bad": ["r3"]}}
    assert outcome.agreement == pytest.approx(kendalls_w([["r1", "r2", "r3"], ["r2", "r1", "r3"], ["r2", "r1", "r3"]]))


def test_the_median_rating_and_its_seeded_even_case():
    assert median_rating([5, 1, 4], seed=0) == (4, 4.0)
    picks = {median_rating([3, 4], seed=seed)[0] for seed in range(30)}
    assert picks == {3, 4} and median_rating([3, 4], seed=9)[1] == 3.5
    assert median_rating([2, 2, 5, 5], seed=11) == median_rating([5, 2, 5, 2], seed=11)


def test_rating_alpha_on_one_unit_uses_the_scale():
    assert rating_alpha([[4, 4, 4]], 5) == 1.0
    # ratings 1 and 5 on a 1..5 scale: observed 16 against 4 expected by chance: 1 - 16 / 4
    assert rating_alpha([[1, 5]], 5) == pytest.approx(-3.0)
    # 3 and 4: 1 against (25 - 1) / 6 = 4
    assert rating_alpha([[3, 4]], 5) == pytest.approx(0.75)
    assert rating_alpha([[3]], 5) is None


def test_rating_alpha_on_several_units_is_krippendorffs():
    units = [[value for value in unit if value] for unit in zip(*OBSERVERS)]
    assert rating_alpha(units, 5) == pytest.approx(0.849, abs=5e-4)
    assert rating_alpha([[5, 5], [5, 5]], 5) == 1.0  # all agree on the same value: undefined for Krippendorff, 1 here


def test_whole_task_rating_consensus():
    annotations = [(1, rated(4)), (2, rated(4)), (3, rated(2)), (4, [])]
    outcome = aggregate_rating(RATING, annotations, seed=3, max_rating=5, per_item=False)
    assert [item["value"] for item in outcome.result] == [{"rating": 4}]
    assert "item_index" not in outcome.result[0]
    # coincidences o(4,4) = 1, o(4,2) = o(2,4) = 1 over n = 3: observed (0 + 4 + 4) / 3 against 4 by chance
    assert outcome.agreement == pytest.approx(1 - (8 / 3) / 4)
    assert outcome.confidence == pytest.approx(2 / 3) and outcome.annotator_count == 3 and outcome.method == "median"


def test_per_item_rating_consensus_gives_one_item_per_response():
    items = ["r1", "r2"]
    annotations = [(1, rated(5, 2, items=items)), (2, rated(5, 1, items=items)), (3, rated(4, 1, items=items))]
    outcome = aggregate_rating({**RATING, "to_name": "responses"}, annotations, seed=1, max_rating=5, per_item=True)
    assert [(item["item_index"], item["value"]) for item in outcome.result] == [("r1", {"rating": 5}), ("r2", {"rating": 1})]
    counts = np.array([[0, 0, 0, 1, 2], [2, 1, 0, 0, 0]])
    assert outcome.details["alpha"] == pytest.approx(krippendorff_alpha_interval(counts, [1, 2, 3, 4, 5]))
    assert outcome.agreement == pytest.approx(outcome.details["alpha"])
    assert len({item["id"] for item in outcome.result}) == 2


def test_ratings_off_the_scale_are_left_out():
    outcome = aggregate_rating(RATING, [(1, rated(9)), (2, rated(3))], seed=1, max_rating=5, per_item=False)
    assert outcome.result[0]["value"] == {"rating": 3} and outcome.agreement is None
