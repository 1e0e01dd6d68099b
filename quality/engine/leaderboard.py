"""The model leaderboard: Bradley-Terry scores from pairwise battles with bootstrap intervals, win rates, and mean
ratings with intervals. Pure numpy: arrays of model indices in, arrays per model out.

The method is Chatbot Arena's: the probability that model i beats model j is sigmoid(s_i - s_j); the strengths s
are the maximum-likelihood fit, a tie counting as half a win for each side (the expected score of a battle is
what the model predicts, so a tie is one half-weighted win and one half-weighted loss). A tiny ridge keeps the fit
finite when a model never lost, and pins the scale's origin: its solution has sum(s) = 0. Scores are on the Elo
scale, 400 points per factor ten of odds, anchored so that the mean score of the models is 1000.

The bootstrap resamples the battles with replacement, as Chatbot Arena does, and refits; it draws the resampled
counts of each distinct (model_a, model_b, outcome) from one multinomial, which is the same distribution as
drawing battle indices but costs the number of distinct cells instead of the number of battles.
"""
from dataclasses import dataclass

import numpy as np

MEAN_SCORE = 1000.0
ELO_POINTS_PER_NAT = 400.0 / np.log(10.0)
RIDGE = 1e-3  # in battles' worth of log-likelihood: negligible beside real data, enough to keep s finite
LOSS, TIE, WIN = 0, 1, 2  # outcome classes, from model_a's side
MAX_NEWTON_STEPS = 100
MAX_STEP = 2.0  # nats per Newton step: a trust region, so that a model that never lost walks out instead of leaping
TOLERANCE = 1e-9
CELLS_PER_BOOTSTRAP_BATCH = 4_000_000  # rounds are fitted together in batches of about this many counts
# Two-sided 95% Student t quantiles for 1..30 degrees of freedom; beyond, linear in 1/df towards the normal's.
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
NORMAL_975 = 1.959964


@dataclass(frozen=True)
class Leaderboard:
    """Per model (index order): `score` and its 95% bootstrap interval (NaN for a model without battles, and the
    interval NaN too without bootstrap rounds), the battle counts, and `win_rate` (wins plus half the ties over
    battles). `win_rate_matrix[i, j]` is the same between i and j alone, NaN where they never met."""

    score: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    wins: np.ndarray
    losses: np.ndarray
    ties: np.ndarray
    judgments: np.ndarray
    win_rate: np.ndarray
    win_rate_matrix: np.ndarray
    bootstrap_rounds: int


@dataclass(frozen=True)
class RatingSummary:
    """Per model and rating control, arrays of shape (models, controls): the mean rating, its 95% interval
    (Student t on the ratings' spread; NaN under two ratings) and how many ratings it rests on."""

    mean: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    count: np.ndarray


def outcome_classes(outcome: np.ndarray) -> np.ndarray:
    """Model_a's outcome (1 win, 0.5 tie, 0 loss) as LOSS/TIE/WIN; anything else is refused."""
    outcome = np.asarray(outcome, dtype=float)
    classes = np.rint(outcome * 2).astype(np.int64)
    if not np.array_equal(classes, outcome * 2):
        raise ValueError("a battle's outcome must be 1 (model_a won), 0 (model_b won) or 0.5 (a tie)")
    return classes


def battle_cells(model_a: np.ndarray, model_b: np.ndarray, outcome: np.ndarray, model_count: int,
                 count: np.ndarray | None = None) -> np.ndarray:
    """How many battles fall in each (model_a, model_b, outcome class) cell: a flat array of model_count² × 3.
    `count`, when given, says how many times each row's battle happened (a reader that grouped them)."""
    model_a, model_b = np.asarray(model_a, dtype=np.int64), np.asarray(model_b, dtype=np.int64)
    if model_a.shape != model_b.shape or model_a.shape != np.shape(outcome) or model_a.ndim != 1:
        raise ValueError("model_a, model_b and outcome must be 1-d arrays of the same length")
    count = _row_counts(count, model_a.shape)
    if model_a.size and (min(model_a.min(), model_b.min()) < 0 or max(model_a.max(), model_b.max()) >= model_count):
        raise ValueError(f"model indices must be in 0..{model_count - 1}")
    if np.any(model_a == model_b):
        raise ValueError("a model cannot battle itself (model_a == model_b)")
    index = (model_a * model_count + model_b) * 3 + outcome_classes(outcome)
    if count is None:
        return np.bincount(index, minlength=model_count * model_count * 3)
    return np.bincount(index, weights=count, minlength=model_count * model_count * 3).astype(np.int64)


def _row_counts(count: np.ndarray | None, shape: tuple) -> np.ndarray | None:
    if count is None:
        return None
    count = np.asarray(count)
    if count.shape != shape or (count.size and (count.min() < 0 or not np.issubdtype(count.dtype, np.integer))):
        raise ValueError("count must be a non-negative whole number per row")
    return count.astype(float)


def points_and_battles(cells: np.ndarray, model_count: int) -> tuple[np.ndarray, np.ndarray]:
    """From cell counts (..., M²×3): points[i, j] = i's wins over j plus half their ties, and battles[i, j]
    between them (symmetric), each (..., M, M)."""
    by_pair = cells.reshape(*cells.shape[:-1], model_count, model_count, 3).astype(float)
    a_points = by_pair[..., WIN] + 0.5 * by_pair[..., TIE]
    b_points = by_pair[..., LOSS] + 0.5 * by_pair[..., TIE]
    played = by_pair.sum(axis=-1)
    return a_points + np.swapaxes(b_points, -1, -2), played + np.swapaxes(played, -1, -2)


def fit_strengths(points: np.ndarray, battles: np.ndarray, *, ridge: float = RIDGE) -> np.ndarray:
    """Bradley-Terry strengths in nats, (..., M) for (..., M, M) inputs: Newton's method on the penalised
    log-likelihood, every leading index (bootstrap round) fitted at once."""
    strengths = np.zeros(points.shape[:-1])
    if strengths.size == 0:
        return strengths
    eye = np.eye(points.shape[-1])
    for _ in range(MAX_NEWTON_STEPS):
        difference = strengths[..., :, None] - strengths[..., None, :]
        beats = 0.5 * (1.0 + np.tanh(0.5 * difference))  # sigmoid, without overflow
        gradient = (points - battles * beats).sum(axis=-1) - ridge * strengths
        weight = battles * beats * (1.0 - beats)
        curvature = eye * (weight.sum(axis=-1) + ridge)[..., None] - weight
        step = np.linalg.solve(curvature, gradient[..., None])[..., 0]
        largest = np.abs(step).max(axis=-1, keepdims=True)
        step *= np.minimum(1.0, MAX_STEP / np.maximum(largest, 1e-300))
        strengths += step
        if largest.max(initial=0.0) < TOLERANCE:
            break
    return strengths


def elo_scores(strengths: np.ndarray) -> np.ndarray:
    """Strengths in nats on the Elo scale, the models' mean at MEAN_SCORE."""
    if strengths.shape[-1] == 0:
        return strengths
    centred = strengths - strengths.mean(axis=-1, keepdims=True)
    return MEAN_SCORE + ELO_POINTS_PER_NAT * centred


def bootstrap_scores(cells: np.ndarray, model_count: int, rounds: int, *, seed: int,
                     ridge: float = RIDGE) -> np.ndarray:
    """(rounds, M) Elo scores, each refitted on the battles resampled with replacement."""
    rng = np.random.default_rng(seed)
    total = int(cells.sum())
    share = cells / total
    batch = max(1, CELLS_PER_BOOTSTRAP_BATCH // cells.size)
    scores = []
    for start in range(0, rounds, batch):
        resampled = rng.multinomial(total, share, size=min(batch, rounds - start))
        points, battles = points_and_battles(resampled, model_count)
        scores.append(elo_scores(fit_strengths(points, battles, ridge=ridge)))
    return np.concatenate(scores)


def compute_leaderboard(model_a: np.ndarray, model_b: np.ndarray, outcome: np.ndarray, *, model_count: int,
                        bootstrap_rounds: int = 0, seed: int = 0, ridge: float = RIDGE,
                        count: np.ndarray | None = None) -> Leaderboard:
    """Scores, intervals and counts for `model_count` models from battles given as three equal-length arrays
    (with `count`, each row stands for that many identical battles)."""
    if bootstrap_rounds < 0:
        raise ValueError("bootstrap_rounds must be 0 or more")
    cells = battle_cells(model_a, model_b, outcome, model_count, count)
    points, battles = points_and_battles(cells, model_count)
    judgments = battles.sum(axis=1)
    played = judgments > 0
    score = np.where(played, elo_scores(fit_strengths(points, battles, ridge=ridge)), np.nan)
    ci_low = ci_high = np.full(model_count, np.nan)
    if bootstrap_rounds and cells.sum():
        rounds = bootstrap_scores(cells, model_count, bootstrap_rounds, seed=seed, ridge=ridge)
        ci_low, ci_high = (np.where(played, bound, np.nan) for bound in np.percentile(rounds, [2.5, 97.5], axis=0))
    wins, losses, ties = _win_loss_tie(cells, model_count)
    with np.errstate(invalid="ignore", divide="ignore"):
        win_rate_matrix = np.where(battles > 0, points / battles, np.nan)
        win_rate = np.where(played, points.sum(axis=1) / judgments, np.nan)
    return Leaderboard(score, ci_low, ci_high, wins, losses, ties, judgments.astype(np.int64), win_rate,
                       win_rate_matrix, bootstrap_rounds)


def _win_loss_tie(cells: np.ndarray, model_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    by_pair = cells.reshape(model_count, model_count, 3)
    as_a, as_b = by_pair.sum(axis=1), by_pair.sum(axis=0)  # (M, 3): per model, its outcome classes on each side
    return as_a[:, WIN] + as_b[:, LOSS], as_a[:, LOSS] + as_b[:, WIN], as_a[:, TIE] + as_b[:, TIE]


def t_quantile_975(degrees_of_freedom: np.ndarray) -> np.ndarray:
    """Student t's 97.5% quantile (NaN below one degree of freedom)."""
    df = np.asarray(degrees_of_freedom, dtype=float)
    tabled = np.asarray(T_975)[np.clip(df, 1, len(T_975)).astype(np.int64) - 1]
    with np.errstate(divide="ignore"):
        beyond = NORMAL_975 + (T_975[-1] - NORMAL_975) * len(T_975) / df
    return np.where(df < 1, np.nan, np.where(df <= len(T_975), tabled, beyond))


def rating_summaries(model: np.ndarray, control: np.ndarray, rating: np.ndarray, *, model_count: int,
                     control_count: int, times: np.ndarray | None = None) -> RatingSummary:
    """Mean rating per (model, control) with a t interval, from one row per rating given (with `times`, each
    row stands for that many identical ratings)."""
    model, control = np.asarray(model, dtype=np.int64), np.asarray(control, dtype=np.int64)
    rating = np.asarray(rating, dtype=float)
    times = np.ones_like(rating) if times is None else _row_counts(times, rating.shape)
    cell = model * control_count + control
    size = model_count * control_count
    count = np.bincount(cell, weights=times, minlength=size).astype(np.int64)
    total = np.bincount(cell, weights=rating * times, minlength=size)
    squares = np.bincount(cell, weights=rating * rating * times, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        variance = np.clip((squares - count * mean * mean) / (count - 1), 0.0, None)
        half_width = t_quantile_975(count - 1) * np.sqrt(variance / count)
    shape = (model_count, control_count)
    mean = np.where(count > 0, mean, np.nan)
    half_width = np.where(count > 1, half_width, np.nan)
    return RatingSummary(mean.reshape(shape), (mean - half_width).reshape(shape), (mean + half_width).reshape(shape),
                         count.reshape(shape))
