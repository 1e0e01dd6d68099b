"""The leaderboard as the admin page shows it: numbers worded for people, the interval chart's geometry and the
win-rate heat table, from the plain dict quality.leaderboard.project_leaderboard answers. No Django, no HTML."""
import math
from dataclasses import dataclass

# The chart's drawing box in SVG user units; it scales to the page's width (viewBox), so a phone gets it whole.
CHART_WIDTH = 480
CHART_MARGIN = 24  # room for half an end tick's label
ROW_HEIGHT = 38  # a model's name line and its bar below it
AXIS_HEIGHT = 30
NICE_STEPS = (1, 2, 2.5, 5, 10)
WANTED_TICKS = 5
DASH = "–"


@dataclass(frozen=True)
class ChartRow:
    model: str
    caption: str  # "1043 (1012–1078)"
    name_y: float
    bar_y: float
    dot_x: float
    low_x: float | None  # None without an interval (no bootstrap)
    high_x: float | None


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class IntervalChart:
    width: int
    height: int
    rows: list[ChartRow]
    ticks: list[Tick]
    mean_x: float | None  # the models' mean score (1000), drawn as a reference line when in range
    plot_top: float
    plot_bottom: float


@dataclass(frozen=True)
class HeatCell:
    text: str
    background: str  # a CSS colour, or "" where the models never met (or on the diagonal, a model and itself)
    title: str


@dataclass(frozen=True)
class HeatRow:
    model: str
    cells: list[HeatCell]


MINUS = "\u2212"  # a typographic minus: "-74-420" reads as a range of ranges


def number_text(value: float, digits: int = 0) -> str:
    return f"{value:.{digits}f}".replace("-", MINUS)


def score_text(value: float | None) -> str:
    return DASH if value is None else number_text(value)


def interval_text(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return DASH
    return f"{number_text(low)} to {number_text(high)}"


def percent_text(value: float | None) -> str:
    return DASH if value is None else f"{100 * value:.1f}%"


def rating_text(rating: dict) -> str:
    """"4.50 ± 0.32" (the half-width of the t interval), the mean alone when one rating gives no interval."""
    if rating["mean"] is None:
        return DASH
    if rating["ci_low"] is None or rating["ci_high"] is None:
        return f"{rating['mean']:.2f}"
    return f"{rating['mean']:.2f} ± {(rating['ci_high'] - rating['ci_low']) / 2:.2f}"


def table_rows(board: dict, rating_controls: list[str]) -> list[dict]:
    """One row per model, best first, every value already text; rank only for the models with a score."""
    rows = []
    for rank, model in enumerate(board["models"], start=1):
        ratings = [model["ratings"].get(control, {"mean": None, "count": 0}) for control in rating_controls]
        rows.append({
            "rank": rank if model["score"] is not None else DASH,
            "model": model["model"],
            "score": score_text(model["score"]),
            "interval": interval_text(model["ci_low"], model["ci_high"]),
            "wins": model["wins"], "losses": model["losses"], "ties": model["ties"],
            "win_rate": percent_text(model["win_rate"]),
            "judgments": model["judgments"],
            "ratings": [{"text": rating_text(rating) if rating["count"] else DASH, "count": rating["count"]}
                        for rating in ratings],
        })
    return rows


def rating_controls_of(board: dict) -> list[str]:
    return list(board["models"][0]["ratings"]) if board["models"] else []


def nice_step(span: float) -> float:
    """A round tick spacing (1, 2, 2.5 or 5 times a power of ten) giving about WANTED_TICKS ticks over span."""
    rough = span / WANTED_TICKS
    power = 10 ** math.floor(math.log10(rough))
    return next(step * power for step in NICE_STEPS if step * power >= rough)


def interval_chart(board: dict, mean_score: float = 1000.0) -> IntervalChart | None:
    """Each scored model's dot at its score and its 95% interval as a bar, on one shared axis of round ticks."""
    scored = [model for model in board["models"] if model["score"] is not None]
    if not scored:
        return None
    bounds = [value for model in scored for value in (model["score"], model["ci_low"], model["ci_high"]) if value is not None]
    step = nice_step(max(max(bounds) - min(bounds), 1.0))
    low, high = math.floor(min(bounds) / step) * step, math.ceil(max(bounds) / step) * step
    if high - low < step:
        high = low + step

    def x_of(value: float) -> float:
        return round(CHART_MARGIN + (value - low) / (high - low) * (CHART_WIDTH - 2 * CHART_MARGIN), 2)

    rows = [
        ChartRow(model["model"], f"{score_text(model['score'])}"
                 + (f" ({interval_text(model['ci_low'], model['ci_high'])})" if model["ci_low"] is not None else ""),
                 name_y=index * ROW_HEIGHT + 16, bar_y=index * ROW_HEIGHT + 29, dot_x=x_of(model["score"]),
                 low_x=x_of(model["ci_low"]) if model["ci_low"] is not None else None,
                 high_x=x_of(model["ci_high"]) if model["ci_high"] is not None else None)
        for index, model in enumerate(scored)
    ]
    tick_count = round((high - low) / step)
    ticks = [Tick(x_of(low + i * step), f"{low + i * step:g}".replace("-", MINUS)) for i in range(tick_count + 1)]
    plot_bottom = len(scored) * ROW_HEIGHT
    return IntervalChart(CHART_WIDTH, plot_bottom + AXIS_HEIGHT, rows, ticks,
                         x_of(mean_score) if low <= mean_score <= high else None, 0, plot_bottom)


def heat_colour(rate: float) -> str:
    """Red for a model that loses to the other, white at even, blue for one that wins; light enough for black text."""
    hue = 215 if rate >= 0.5 else 0
    saturation = round(abs(rate - 0.5) * 2 * 70)
    return f"hsl({hue}, {saturation}%, {round(96 - abs(rate - 0.5) * 2 * 26)}%)"


def heat_table(board: dict) -> list[HeatRow]:
    names = [model["model"] for model in board["models"]]
    return [HeatRow(row_name, [heat_cell(row_name, column_name, rate, itself=row == column)
                               for column, (column_name, rate) in enumerate(zip(names, rates))])
            for row, (row_name, rates) in enumerate(zip(names, board["win_rate_matrix"]))]


def heat_cell(row_name: str, column_name: str, rate: float | None, *, itself: bool) -> HeatCell:
    if itself:
        return HeatCell("", "", "")
    if rate is None:
        return HeatCell(DASH, "", f"{row_name} and {column_name} never met")
    return HeatCell(f"{100 * rate:.0f}%", heat_colour(rate), f"{row_name} against {column_name}: {percent_text(rate)} won (ties half)")
