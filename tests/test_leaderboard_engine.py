"""The leaderboard engine on battles from known model strengths: the order and the scale come back, the bootstrap
intervals cover the truth about 95% of the time, and counts, win rates and rating intervals are what hand
computation gives. No database."""
import numpy as np
import pytest
from scipy.stats import t
from sklearn.linear_model import LogisticRegression

from quality.engine.leaderboard import (ELO_POINTS_PER_NAT, MEAN_SCORE, compute_leaderboard, rating_summaries,
                                        t_quantile_975)
from quality.engine.synthetic import simulate_battles


def true_scores(strengths: np.ndarray) -> np.ndarray:
    return MEAN_SCORE + ELO_POINTS_PER_NAT * (strengths - strengths.mean())


def spearman(first: np.ndarray, second: np.ndarray) -> float:
    return float(np.corrcoef(np.argsort(np.argsort(first)), np.argsort(np.argsort(second)))[0, 1])


def board_of(battles, model_count: int, **options):
    return compute_leaderboard(battles.model_a, battles.model_b, battles.outcome, model_count=model_count, **options)


def test_the_models_order_comes_back_from_battles_of_known_strengths():
    strengths = np.random.default_rng(3).normal(0.0, 1.0, 12)
    battles = simulate_battles(strengths, 20_000, tie_share=0.15, seed=4)

    board = board_of(battles, 12)

    assert spearman(board.score, strengths) >= 0.95
    assert np.abs(board.score - true_scores(strengths)).max() < 40  # Elo points, from ~3,300 battles per model
    assert board.score.mean() == pytest.approx(MEAN_SCORE)


def test_the_95_percent_intervals_cover_the_true_scores_90_to_98_percent_of_the_time():
    strengths = np.linspace(-1.2, 1.2, 8)
    truth = true_scores(strengths)
    covered = []
    for simulation in range(40):
        battles = simulate_battles(strengths, 3_000, tie_share=0.1, seed=100 + simulation)
        board = board_of(battles, 8, bootstrap_rounds=100, seed=simulation)
        covered.append((board.ci_low <= truth) & (truth <= board.ci_high))

    assert 0.90 <= np.mean(covered) <= 0.98


def test_scores_match_a_logistic_regression_on_the_score_difference_with_ties_as_half_wins():
    """Chatbot Arena fits sklearn's logistic regression on +1/-1 model columns; ours must find the same optimum."""
    strengths = np.array([0.8, 0.0, -0.5, 0.3])
    battles = simulate_battles(strengths, 4_000, tie_share=0.2, seed=7)
    design = np.zeros((2 * len(battles.outcome), 4))
    rows = np.arange(len(battles.outcome))
    for half in (0, 1):
        design[half * len(rows) + rows, battles.model_a] = 1.0
        design[half * len(rows) + rows, battles.model_b] = -1.0
    won = np.concatenate([np.ones(len(rows)), np.zeros(len(rows))])
    weight = np.concatenate([battles.outcome, 1.0 - battles.outcome])
    regression = LogisticRegression(fit_intercept=False, C=1e6, tol=1e-10, max_iter=1000)
    regression.fit(design, won, sample_weight=weight)

    board = board_of(battles, 4)

    assert board.score == pytest.approx(true_scores(regression.coef_[0]), abs=0.05)


def test_three_wins_in_four_put_the_winner_400_log10_3_points_ahead_and_a_tie_counts_half():
    board = compute_leaderboard([0, 0, 0, 0], [1, 1, 1, 1], [1, 1, 1, 0], model_count=2)
    with_tie = compute_leaderboard([0, 1], [1, 0], [1, 0.5], model_count=2)  # a win and a tie: 1.5 points of 2

    assert board.score[0] - board.score[1] == pytest.approx(400 * np.log10(3), abs=0.5)  # the ridge pulls in a little
    assert with_tie.score[0] - with_tie.score[1] == pytest.approx(400 * np.log10(3), abs=0.5)  # the ridge pulls in a little
    assert (with_tie.wins.tolist(), with_tie.losses.tolist(), with_tie.ties.tolist()) == ([1, 0], [0, 1], [1, 1])


def test_counts_win_rates_and_the_matrix_read_both_sides_of_each_battle():
    board = compute_leaderboard([0, 1, 2, 0], [1, 0, 0, 2], [1, 1, 0.5, 0], model_count=4)

    assert board.wins.tolist() == [1, 1, 1, 0]
    assert board.losses.tolist() == [2, 1, 0, 0]
    assert board.ties.tolist() == [1, 0, 1, 0]
    assert board.judgments.tolist() == [4, 2, 2, 0]
    assert board.win_rate[:3].tolist() == [0.375, 0.5, 0.75]
    assert board.win_rate_matrix[0, 1] == 0.5 and board.win_rate_matrix[2, 0] == 0.75
    assert board.win_rate_matrix[0, 2] == 0.25 and np.isnan(board.win_rate_matrix[1, 2])
    assert np.isnan(board.score[3]) and np.isnan(board.win_rate[3])  # a model without battles has no score


def test_a_model_that_never_lost_gets_a_finite_top_score():
    board = compute_leaderboard([0, 0, 1, 1], [1, 2, 2, 0], [1, 1, 1, 0], model_count=3, bootstrap_rounds=20)

    assert np.all(np.isfinite(board.score)) and np.argmax(board.score) == 0
    assert np.all(board.ci_low <= board.ci_high)


def test_the_bootstrap_is_reproducible_from_its_seed():
    battles = simulate_battles(np.array([0.5, 0.0, -0.5]), 600, seed=1)

    first, again = (board_of(battles, 3, bootstrap_rounds=30, seed=9) for _ in range(2))
    other = board_of(battles, 3, bootstrap_rounds=30, seed=10)

    assert first.ci_low.tolist() == again.ci_low.tolist() and first.ci_high.tolist() == again.ci_high.tolist()
    assert first.ci_low.tolist() != other.ci_low.tolist()
    assert np.all(np.isnan(board_of(battles, 3).ci_low))  # no rounds, no interval


@pytest.mark.parametrize("model_a, model_b, outcome, message", [
    ([0], [1], [0.7], "outcome must be 1"),
    ([0], [0], [1.0], "cannot battle itself"),
    ([0], [5], [1.0], "model indices must be in 0..2"),
    ([0, 1], [1], [1.0], "same length"),
])
def test_bad_battles_are_refused_with_the_reason(model_a, model_b, outcome, message):
    with pytest.raises(ValueError, match=message):
        compute_leaderboard(model_a, model_b, outcome, model_count=3)


def test_no_battles_at_all_give_an_empty_board():
    nothing = np.zeros(0, dtype=np.int64)

    board = compute_leaderboard(nothing, nothing, nothing.astype(float), model_count=0, bootstrap_rounds=10)

    assert board.score.shape == (0,) and board.win_rate_matrix.shape == (0, 0)


def test_rating_means_carry_a_student_t_interval_per_model_and_control():
    model = [0, 0, 0, 0, 1, 1]
    control = [0, 0, 0, 1, 0, 0]
    rating = [4, 5, 3, 2, 1, 1]

    summary = rating_summaries(model, control, rating, model_count=3, control_count=2)

    assert summary.mean[0, 0] == 4.0 and summary.count[0, 0] == 3
    assert summary.ci_high[0, 0] - 4.0 == pytest.approx(4.303 * 1.0 / np.sqrt(3))  # t(2) x sd / sqrt(n)
    assert summary.mean[0, 1] == 2.0 and np.isnan(summary.ci_low[0, 1])  # one rating: no interval
    assert summary.ci_low[1, 0] == summary.ci_high[1, 0] == 1.0  # no spread
    assert summary.count[2].tolist() == [0, 0] and np.all(np.isnan(summary.mean[2]))


def test_the_t_quantiles_match_the_distribution_within_a_thousandth():
    degrees = np.array([1, 2, 5, 29, 30, 31, 45, 80, 200, 5000])

    assert t_quantile_975(degrees) == pytest.approx(t.ppf(0.975, degrees), abs=1e-3)
    assert np.isnan(t_quantile_975(np.array([0]))[0])


def test_battles_given_with_counts_score_as_the_same_battles_one_by_one():
    battles = simulate_battles(np.random.default_rng(3).normal(0, 1, 6), 3000, tie_share=0.2, seed=8)
    cells, times = np.unique(np.stack([battles.model_a, battles.model_b, battles.outcome * 2]), axis=1, return_counts=True)

    counted = compute_leaderboard(cells[0].astype(int), cells[1].astype(int), cells[2] / 2, count=times, model_count=6,
                                  bootstrap_rounds=40, seed=5)
    one_by_one = compute_leaderboard(battles.model_a, battles.model_b, battles.outcome, model_count=6,
                                     bootstrap_rounds=40, seed=5)

    assert len(times) < 100
    for name in ("score", "ci_low", "ci_high", "wins", "losses", "ties", "judgments", "win_rate"):
        np.testing.assert_allclose(getattr(counted, name), getattr(one_by_one, name), err_msg=name)
    with pytest.raises(ValueError, match="count"):
        compute_leaderboard(cells[0].astype(int), cells[1].astype(int), cells[2] / 2, count=-times, model_count=6)


def test_ratings_given_with_counts_summarise_as_the_same_ratings_one_by_one():
    model, control, rating, times = np.array([0, 0, 1]), np.array([0, 0, 0]), np.array([4.0, 2.0, 5.0]), np.array([3, 1, 2])

    counted = rating_summaries(model, control, rating, times=times, model_count=2, control_count=1)
    repeated = rating_summaries(np.repeat(model, times), np.repeat(control, times), np.repeat(rating, times),
                                model_count=2, control_count=1)

    for name in ("mean", "ci_low", "ci_high", "count"):
        np.testing.assert_allclose(getattr(counted, name), getattr(repeated, name), err_msg=name)
    assert counted.count.tolist() == [[4], [2]]
