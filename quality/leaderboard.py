"""A project's model leaderboard: its pairwise, ranking and rating results read as battles and ratings per model,
then scored by the pure engine (quality/engine/leaderboard.py).

Which model wrote a response is task data, by the rule the GenAI exports share (projects.label_config.
model_data_keys): `model_<object name>`, else `<data field>_model`, else Chatbot Arena's `model_a`/`model_b` by
the object's position in a <Pairwise>. A <List>
names the model of each item in the item's `model`, else its `title`. Judgments whose models are not named, or
that compare a model with itself, are counted and left out.

On PostgreSQL the database reads and groups the judgments (quality/leaderboard_sql.py): each distinct judgment
comes once with how many times it was made, so a million tasks cost the Python side a few thousand rows. Elsewhere
the tasks are read in chunks here. Both hand the same values to the same rules below (`read_values`).
"""
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from django.db import connection
from django.db.models import Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from projects.control_types import ControlTag, is_number, item_value
from projects.label_config import LabelConfig, list_item_model, model_data_keys
from projects.models import Annotation, Project, Task
from projects.services import project_config

from . import leaderboard_sql
from .engine.leaderboard import compute_leaderboard, rating_summaries
from .leaderboard_sql import ANNOTATIONS, CONSENSUS

SOURCES = (CONSENSUS, ANNOTATIONS)  # per task its final result, or every annotation
CHUNK_SIZE = 2000
OUTCOME_OF_SELECTED = {"left": 1.0, "right": 0.0, "tie": 0.5}


@dataclass(frozen=True)
class JudgedControls:
    """What a label config judges models with, and which task data keys name the models."""

    pairwise: list[ControlTag]
    rankers: list[ControlTag]
    ratings: list[ControlTag]
    model_keys: dict[str, tuple[str, ...]]  # object name -> the data keys that may name its model, in order
    item_lists: dict[str, str]  # object name -> its data field, for objects whose value may be a list of items

    @property
    def controls(self) -> list[ControlTag]:
        return [*self.pairwise, *self.rankers, *self.ratings]

    @property
    def model_data_keys(self) -> list[str]:
        return sorted({key for keys in self.model_keys.values() for key in keys})


@dataclass
class Judgments:
    """Battles and ratings as they are read, each with how many times it was made; models numbered in the order
    they are met."""

    rating_controls: list[str]
    models: dict[str, int] = field(default_factory=dict)
    battles: Counter = field(default_factory=Counter)  # (model_a, model_b, outcome) -> times
    ratings: Counter = field(default_factory=Counter)  # (model, rating control, value) -> times
    unattributed: int = 0
    same_model: int = 0
    tasks_read: int = 0

    @property
    def battle_count(self) -> int:
        return sum(self.battles.values())

    @property
    def rating_count(self) -> int:
        return sum(self.ratings.values())

    def model(self, name: Any) -> int | None:
        known = self.models.get(name) if isinstance(name, str) else None
        if known is not None:
            return known
        if is_number(name):
            name = str(name)
        if not isinstance(name, str) or not name.strip():
            return None
        return self.models.setdefault(name, len(self.models))

    def battle(self, first: Any, second: Any, outcome: float, times: int = 1) -> None:
        model_a, model_b = self.model(first), self.model(second)
        if model_a is None or model_b is None:
            self.unattributed += times
        elif model_a == model_b:
            self.same_model += times
        else:
            self.battles[model_a, model_b, outcome] += times

    def rate(self, name: Any, control_index: int, rating: float, times: int = 1) -> None:
        model = self.model(name)
        if model is None:
            self.unattributed += times
        else:
            self.ratings[model, control_index, float(rating)] += times


def judged_controls(config: LabelConfig) -> JudgedControls:
    def of_type(result_type: str) -> list[ControlTag]:
        return [control for control in config.controls.values() if control.result_type == result_type]

    model_keys = model_data_keys(config)
    judged = JudgedControls(of_type("pairwise"), of_type("ranker"), of_type("rating"), {}, {})
    for name in sorted({name for control in judged.controls for name in control.to_names}):
        judged.model_keys[name] = model_keys[name]
        if config.objects[name].kind != "text":
            judged.item_lists[name] = config.objects[name].data_field
    return judged


def read_judgments(project: Project, *, source: str = CONSENSUS, progress: Callable[[int], None] | None = None) -> Judgments:
    """Every battle and rating in the project's results: per task its final result (the reviewer's, else the
    consensus) or every submitted annotation. `progress(tasks read)` is called along the way."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}")
    judged = judged_controls(project_config(project))
    judgments = Judgments(rating_controls=[control.name for control in judged.ratings])
    if not judged.controls:
        return judgments
    if connection.vendor == "postgresql":
        groups = leaderboard_sql.grouped_judgments(project, judged.controls, judged.model_data_keys,
                                                   sorted(set(judged.item_lists.values())),
                                                   every_annotation=source == ANNOTATIONS)
    else:
        groups = _task_judgments(project, judged, source)
    for task_data, results, times in groups:
        before, judgments.tasks_read = judgments.tasks_read, judgments.tasks_read + times
        for values in results:
            read_values(judged, task_data, values, judgments, times)
        if progress and before // CHUNK_SIZE != judgments.tasks_read // CHUNK_SIZE:
            progress(judgments.tasks_read)
    return judgments


def _task_judgments(project: Project, judged: JudgedControls, source: str) -> Iterator[tuple[dict, list, int]]:
    """Per task: its model-naming data, each of its results as the values per judged control, and 1."""
    for task_data, results in _task_results(project, judged, source):
        yield task_data, [values_per_control(judged, result) for result in results], 1


def _task_results(project: Project, judged: JudgedControls, source: str) -> Iterator[tuple[dict, list[list]]]:
    """(the task's model-naming data, its results) per task, read by keyset in chunks: one query for a chunk's
    tasks and, for every annotation, one for its annotations."""
    names = {f"name_{index}": key for index, key in enumerate(judged.model_data_keys)}
    lists = {f"list_{index}": key for index, key in enumerate(sorted(set(judged.item_lists.values())))}
    tasks = _task_rows(project, source, {**names, **lists})
    last_id = 0
    while rows := list(tasks.filter(id__gt=last_id)[:CHUNK_SIZE]):
        last_id = rows[-1]["id"]
        by_task = _annotation_results([row["id"] for row in rows]) if source == ANNOTATIONS else {}
        for row in rows:
            task_data = {key: row[alias] for alias, key in names.items() if row[alias] is not None}
            task_data |= {key: _parsed(row[alias]) for alias, key in lists.items() if row[alias] is not None}
            if source == CONSENSUS:
                final = row["reviewed"] if row["reviewed"] is not None else row["consensus"]
                yield task_data, [_parsed(final)]
            else:
                yield task_data, by_task.get(row["id"], [])


def _task_rows(project: Project, source: str, data_keys: dict[str, str]) -> QuerySet:
    """The tasks with something to read, each with only the data keys asked for (not the responses' text), as
    text. JSON comes as text for orjson: Django's json.loads per value was most of the time."""
    columns = {alias: KeyTextTransform(key, "data") for alias, key in data_keys.items()}
    tasks = Task.objects.filter(project=project).order_by("id")
    if source == ANNOTATIONS:
        return tasks.filter(annotation_count__gt=0).values("id", **columns)
    tasks = tasks.filter(Q(reviewed_result__isnull=False) | Q(consensus_result__isnull=False))
    return tasks.values("id", reviewed=Cast("reviewed_result", TextField()),
                        consensus=Cast("consensus_result", TextField()), **columns)


def _annotation_results(task_ids: list[int]) -> dict[int, list[list]]:
    by_task: dict[int, list[list]] = {}
    submitted = Annotation.objects.filter(task_id__in=task_ids, was_cancelled=False).order_by("id")
    for task_id, result in submitted.values_list("task_id", Cast("result", TextField())):
        by_task.setdefault(task_id, []).append(_parsed(result))
    return by_task


def _parsed(text: str) -> Any:
    """JSON text as the database gives it; a bare string (SQLite's text of a string value) stays itself."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def values_per_control(judged: JudgedControls, result: Any) -> list[list[dict]]:
    """A result's item values for each judged control, in `judged.controls` order: the items whose `from_name` is
    the control's and whose type is its result type (any case). What leaderboard_sql picks in the database."""
    items = [item for item in result if isinstance(item, dict)] if isinstance(result, list) else []
    return [[item_value(item) for item in items
             if item.get("from_name") == control.name and str(item.get("type", "")).lower() == control.result_type]
            for control in judged.controls]


def read_values(judged: JudgedControls, task_data: dict, values: list[list[dict]], judgments: Judgments, times: int) -> None:
    """One result's values per judged control (values_per_control), made `times` times, into the judgments."""
    readers = ([_read_pairwise] * len(judged.pairwise) + [_read_ranking] * len(judged.rankers)
               + [_read_rating] * len(judged.ratings))
    for index, (control, reader, control_values) in enumerate(zip(judged.controls, readers, values)):
        for value in control_values:
            if isinstance(value, dict):
                reader(judged, control, task_data, value, judgments, times,
                       rating_index=index - len(judged.pairwise) - len(judged.rankers))


def _read_pairwise(judged, control: ControlTag, task_data: dict, value: dict, judgments: Judgments, times: int,
                   **_) -> None:
    outcome = OUTCOME_OF_SELECTED.get(value.get("selected"))
    if outcome is not None and len(control.to_names) == 2:
        first, second = control.to_names
        judgments.battle(_object_model(judged, first, task_data), _object_model(judged, second, task_data), outcome, times)


def _read_ranking(judged, control: ControlTag, task_data: dict, value: dict, judgments: Judgments, times: int,
                  **_) -> None:
    """All the pairs a ranking implies, the earlier item winning; each bucket's list on its own."""
    models = _item_models(judged, control.to_names[0], task_data)
    ranked = value.get("ranker")
    for order in ranked.values() if isinstance(ranked, dict) else ():
        if isinstance(order, list):
            for better, worse in itertools.combinations(order, 2):
                judgments.battle(models.get(_hashable(better)), models.get(_hashable(worse)), 1.0, times)


def _read_rating(judged, control: ControlTag, task_data: dict, value: dict, judgments: Judgments, times: int, *,
                 rating_index: int) -> None:
    rating = value.get("rating")
    if not is_number(rating):
        return
    name = control.to_names[0]
    item = value.get("id", value.get("item_index"))
    if item is None:
        judgments.rate(_object_model(judged, name, task_data), rating_index, rating, times)
        return
    models = _item_models(judged, name, task_data)
    position = item if isinstance(item, int) and not isinstance(item, bool) else None
    judgments.rate(models.get(_hashable(item), models.get(("index", position))), rating_index, rating, times)


def _object_model(judged: JudgedControls, name: str, task_data: dict) -> Any:
    for key in judged.model_keys.get(name, ()):
        if key in task_data:
            return task_data[key]
    return None


def _item_models(judged: JudgedControls, name: str, task_data: dict) -> dict:
    """A list object's items: their id (and ("index", i)) -> the model named by `model`, else `title`."""
    items = task_data.get(judged.item_lists.get(name, ""))
    models = {}
    for position, item in enumerate(items if isinstance(items, list) else ()):
        if isinstance(item, dict):
            model = list_item_model(item)
            models[("index", position)] = model
            if "id" in item:
                models[_hashable(item["id"])] = model
    return models


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float)) and not isinstance(value, bool) else repr(value)


def project_leaderboard(project: Project, *, source: str = CONSENSUS, bootstrap_rounds: int = 100,
                        progress: Callable[[int], None] | None = None) -> dict:
    """The leaderboard as the API answers it: models by score, best first, and the win-rate matrix in that order.
    The bootstrap is seeded with the project's id, so the same results give the same intervals."""
    return score_judgments(read_judgments(project, source=source, progress=progress), source=source,
                           bootstrap_rounds=bootstrap_rounds, seed=project.pk)


def score_judgments(judgments: Judgments, *, source: str, bootstrap_rounds: int, seed: int) -> dict:
    """The engine's scores of judgments, the models numbered by name first so that the answer does not depend on
    the order the reader met them in."""
    names = sorted(judgments.models)
    renumber = np.zeros(len(names), dtype=np.int64)
    for new_index, name in enumerate(names):
        renumber[judgments.models[name]] = new_index
    battles = _counted_rows(judgments.battles)
    board = compute_leaderboard(renumber[battles[:, 0].astype(np.int64)], renumber[battles[:, 1].astype(np.int64)],
                                battles[:, 2], count=battles[:, 3].astype(np.int64), model_count=len(names),
                                bootstrap_rounds=bootstrap_rounds, seed=seed)
    ratings = _counted_rows(judgments.ratings)
    summary = rating_summaries(renumber[ratings[:, 0].astype(np.int64)], ratings[:, 1], ratings[:, 2],
                               times=ratings[:, 3].astype(np.int64), model_count=len(names),
                               control_count=len(judgments.rating_controls))
    order = sorted(range(len(names)), key=lambda i: (np.isnan(board.score[i]), -np.nan_to_num(board.score[i]), names[i]))
    return {
        "source": source,
        "bootstrap": bootstrap_rounds,
        "battle_count": judgments.battle_count,
        "rating_count": judgments.rating_count,
        "tasks_read": judgments.tasks_read,
        "skipped": {"unattributed": judgments.unattributed, "same_model": judgments.same_model},
        "models": [_model_row(names[i], i, board, summary, judgments.rating_controls) for i in order],
        "win_rate_matrix": [[_number(board.win_rate_matrix[i, j]) for j in order] for i in order],
    }


def _counted_rows(counted: Counter) -> np.ndarray:
    """(a, b, value) -> times, as rows of (a, b, value, times)."""
    return np.asarray([(*key, times) for key, times in counted.items()], dtype=float).reshape(-1, 4)


def _model_row(name: str, index: int, board, summary, rating_controls: list[str]) -> dict:
    return {
        "model": name,
        "score": _number(board.score[index]),
        "ci_low": _number(board.ci_low[index]),
        "ci_high": _number(board.ci_high[index]),
        "wins": int(board.wins[index]),
        "losses": int(board.losses[index]),
        "ties": int(board.ties[index]),
        "win_rate": _number(board.win_rate[index]),
        "judgments": int(board.judgments[index]),
        "ratings": {
            control: {"mean": _number(summary.mean[index, c]), "ci_low": _number(summary.ci_low[index, c]),
                      "ci_high": _number(summary.ci_high[index, c]), "count": int(summary.count[index, c])}
            for c, control in enumerate(rating_controls)
        },
    }


def _number(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)
