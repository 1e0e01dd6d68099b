"""SFT_JSONL: one `{"messages": [...]}` line per exported annotation that says which response is the one to learn.

The messages are the prompt (a <Text> as one user message, a <Paragraphs> dialogue as its own messages) and that
response as the final assistant turn: the annotator's rewrite (a <TextArea> naming one response, not blank), else
the top of a ranking, else the response a <Pairwise> chose, else the one rated highest in a rating dimension (two
or more rated, no tie at the top). A line also has `task_id`, `control`, `source` (rewrite, ranking, pairwise or
rating), `model` (whose response it is, or was before the rewrite), `origin` and `annotator`.
"""
from typing import Iterable, Iterator, NamedTuple

from .context import ExportContext
from .genai import PAIRWISE, RANKER, GenAIConfig, text_lines
from .json_tasks import dumps
from .preference import pairwise_preferences, rankings, rating_dimensions
from .results import items_of


class Best(NamedTuple):
    content: str
    control: str
    source: str
    model: str | None


def write_sft_jsonl(tasks: Iterable[dict], context: ExportContext) -> Iterator[bytes]:
    genai = GenAIConfig.of(context.config)
    for task in tasks:
        lines = []
        for annotation in task["annotations"]:
            best = best_response(genai, task["data"], annotation, context)
            if best is None:
                context.counts["annotations_without_a_best_response"] += 1
                continue
            lines.append(dumps(sft_row(task, annotation, genai.prompt_messages(task["data"]), best)) + b"\n")
        context.counts["examples"] += len(lines)
        yield b"".join(lines)


def sft_row(task: dict, annotation: dict, prompt: list[dict], best: Best) -> dict:
    return {
        "messages": [*prompt, {"role": "assistant", "content": best.content}],
        "task_id": task["id"], "control": best.control, "source": best.source, "model": best.model,
        "origin": annotation.get("origin"), "annotator": annotation.get("completed_by"),
    }


def best_response(genai: GenAIConfig, data: dict, annotation: dict, context: ExportContext) -> Best | None:
    return (
        _rewrite(genai, data, annotation) or _top_ranked(genai, data, annotation)
        or _chosen(genai, data, annotation, context) or _rated_highest(genai, data, annotation)
    )


def _rewrite(genai: GenAIConfig, data: dict, annotation: dict) -> Best | None:
    for control in genai.rewrites:
        text = text_lines(items_of(annotation, control))
        if text.strip():
            rewritten = genai.whole_response(control.to_names[0], data)
            return Best(text, control.name, "rewrite", rewritten.model)
    return None


def _top_ranked(genai: GenAIConfig, data: dict, annotation: dict) -> Best | None:
    for control in genai.of_type(RANKER):
        for ranked in rankings(genai, control, data, annotation):
            if ranked:
                return Best(ranked[0].text, control.name, "ranking", ranked[0].model)
    return None


def _chosen(genai: GenAIConfig, data: dict, annotation: dict, context: ExportContext) -> Best | None:
    for control in genai.of_type(PAIRWISE):
        for preference in pairwise_preferences(genai, control, data, annotation, context):
            return Best(preference.chosen.text, control.name, "pairwise", preference.chosen.model)
    return None


def _rated_highest(genai: GenAIConfig, data: dict, annotation: dict) -> Best | None:
    for dimension, scored in rating_dimensions(genai, data, annotation).items():
        ordered = sorted(scored, key=lambda entry: -entry[1])
        if len(ordered) > 1 and ordered[0][1] > ordered[1][1]:
            top = ordered[0][0]
            return Best(top.text, dimension, "rating", top.model)
    return None
