"""PREFERENCE_JSONL: TRL's preference dataset, one `{"prompt", "chosen", "rejected"}` line per preferred pair.

Standard form (three strings) when the prompt is a <Text>; TRL's conversational form when it is a <Paragraphs>:
the dialogue's messages as `prompt`, each response as one assistant message in `chosen` / `rejected`. A line
also carries `task_id`, `control`, `margin` (how far apart the pair is: 1 for a pairwise choice, places apart in
a ranking, rating points apart), `agreement` (the task consensus's on the control the pair comes from: a
pairwise vote's share, a ranking's Kendall's W, the rating controls' alpha), `chosen_model`, `rejected_model`, and the annotation it
came from (`origin`, `annotator`). Pairs: a <Pairwise> answer gives one and a tie none; a ranking every pair it
implies, or only its best against its worst (`ranking_pairs=best_worst`); ratings give pairs only when the config
has no <Pairwise> or <Ranker> (otherwise they are scores, for RATINGS_CSV): the responses one rating dimension
rated apart, higher over lower, with the same `ranking_pairs` choice.
"""
from collections import defaultdict
from typing import Iterable, Iterator, NamedTuple

from projects.label_config import ControlTag

from .context import ExportContext
from .genai import BEST_WORST, PAIRWISE, RANKER, RATING, GenAIConfig, Response
from .json_tasks import dumps
from .results import controls_agreement, items_of


class Preference(NamedTuple):
    chosen: Response
    rejected: Response
    margin: float
    control: str  # the control, or the rating dimension, it comes from
    sources: tuple[str, ...] = ()  # the controls behind it when not `control` alone (a dimension's ratings)


def write_preference_jsonl(tasks: Iterable[dict], context: ExportContext) -> Iterator[bytes]:
    genai = GenAIConfig.of(context.config)
    for task in tasks:
        prompt = genai.prompt_value(task["data"])
        lines = [
            dumps(preference_row(task, annotation, prompt, preference)) + b"\n"
            for annotation in task["annotations"]
            for preference in annotation_preferences(genai, task["data"], annotation, context)
        ]
        context.counts["pairs"] += len(lines)
        yield b"".join(lines)


def preference_row(task: dict, annotation: dict, prompt, preference: Preference) -> dict:
    dialogue = isinstance(prompt, list)
    return {
        "prompt": prompt,
        "chosen": _as_answer(preference.chosen.text, dialogue),
        "rejected": _as_answer(preference.rejected.text, dialogue),
        "task_id": task["id"], "control": preference.control, "margin": float(preference.margin),
        "agreement": controls_agreement(task, preference.sources or (preference.control,)),
        "chosen_model": preference.chosen.model, "rejected_model": preference.rejected.model,
        "origin": annotation.get("origin"), "annotator": annotation.get("completed_by"),
    }


def _as_answer(text: str, dialogue: bool):
    return [{"role": "assistant", "content": text}] if dialogue else text


def annotation_preferences(genai: GenAIConfig, data: dict, annotation: dict, context: ExportContext) -> list[Preference]:
    preferences = []
    pairwise, rankers = genai.of_type(PAIRWISE), genai.of_type(RANKER)
    for control in pairwise:
        preferences += pairwise_preferences(genai, control, data, annotation, context)
    for control in rankers:
        preferences += ranking_preferences(genai, control, data, annotation, context.ranking_pairs)
    if not pairwise and not rankers:
        preferences += rating_preferences(genai, data, annotation, context.ranking_pairs)
    return preferences


def pairwise_preferences(genai: GenAIConfig, control: ControlTag, data: dict, annotation: dict, context: ExportContext) -> list[Preference]:
    """`selected` refers to the task's own order: left is the first object `toName` names."""
    items = items_of(annotation, control)
    if not items:
        return []
    first, second = genai.whole_response(control.to_names[0], data), genai.whole_response(control.to_names[1], data)
    preferences = []
    if first is None or second is None:
        return preferences  # not two whole responses (a <List> is the Ranker's)
    for item in items:
        selected = item["value"].get("selected")
        if selected == "left":
            preferences.append(Preference(first, second, 1, control.name))
        elif selected == "right":
            preferences.append(Preference(second, first, 1, control.name))
        elif selected == "tie":
            context.counts["ties_left_out"] += 1
    return preferences


def ranking_preferences(genai: GenAIConfig, control: ControlTag, data: dict, annotation: dict, mode: str) -> list[Preference]:
    return [
        Preference(*pair, control.name)
        for ranked in rankings(genai, control, data, annotation)
        for pair in implied_pairs([(response, -place) for place, response in enumerate(ranked)], mode)
    ]


def rankings(genai: GenAIConfig, control: ControlTag, data: dict, annotation: dict) -> list[list[Response]]:
    """Each list in `value.ranker` (one per bucket, or the control's own) as responses, best first; ids the
    task's <List> does not hold are left out."""
    responses = genai.responses(control.to_names[0], data)
    orders = []
    for item in items_of(annotation, control):
        ranker = item["value"].get("ranker")
        for order in (ranker.values() if isinstance(ranker, dict) else ()):
            if isinstance(order, list):
                orders.append([responses[str(key)] for key in order if str(key) in responses])
    return orders


def rating_preferences(genai: GenAIConfig, data: dict, annotation: dict, mode: str) -> list[Preference]:
    sources = defaultdict(list)
    for control in genai.of_type(RATING):
        sources[rating_dimension(control)].append(control.name)
    return [
        Preference(*pair, dimension, tuple(sources[dimension]))
        for dimension, scored in rating_dimensions(genai, data, annotation).items()
        for pair in implied_pairs(scored, mode)
    ]


def rating_dimensions(genai: GenAIConfig, data: dict, annotation: dict) -> dict[str, list[tuple[Response, float]]]:
    """The annotation's ratings grouped by dimension (see `rating_dimension`), as (response, rating)."""
    by_dimension: dict[str, list[tuple[Response, float]]] = defaultdict(list)
    for control in genai.of_type(RATING):
        for rated in genai.ratings(control, annotation, data):
            by_dimension[rating_dimension(control)].append((rated.response, rated.rating))
    return by_dimension


def rating_dimension(control: ControlTag) -> str:
    """Rating controls that each rate one response and whose names differ only by its name (`helpful_a` on `a`,
    `helpful_b` on `b`) are one dimension ("helpful"), compared across; any other rating control is its own."""
    if len(control.to_names) != 1:
        return control.name
    target = control.to_names[0]
    if control.name.endswith(target):
        stem = control.name[:-len(target)]
    elif control.name.startswith(target):
        stem = control.name[len(target):]
    else:
        return control.name
    return stem.strip("_- ") or control.name


def implied_pairs(scored: list[tuple[Response, float]], mode: str) -> list[tuple[Response, Response, float]]:
    """(better, worse, score difference) for responses scored apart; equal scores make no pair."""
    ordered = sorted(scored, key=lambda entry: -entry[1])  # stable: equal scores keep their order
    if mode == BEST_WORST:
        candidates = [(ordered[0], ordered[-1])] if len(ordered) > 1 else []
    else:
        candidates = [(better, worse) for index, better in enumerate(ordered) for worse in ordered[index + 1:]]
    return [(better[0], worse[0], better[1] - worse[1]) for better, worse in candidates if better[1] > worse[1]]
