"""Train a project's learned model on its submitted annotations and store the result as a new ModelVersion.

The labels are read in one streaming query; the fit runs outside any transaction; only the new version's row
is written in a short one.
"""
from collections import Counter, defaultdict

from django.db import transaction
from django.db.models import Max

from projects.label_config import parse_label_config
from projects.models import Annotation

from .engines.base import LabelledSpans, LabelledText, Target
from .loading import learned_module, target_for
from .models import Engine, ModelVersion, ProjectModel

READ_BATCH = 2000


def train_project_model(project_id: int) -> ModelVersion:
    """Fit the project's learned engine on every label so far. Raises NotEnoughLabels (an EngineError)."""
    model = ProjectModel.objects.select_related("project").get(project_id=project_id)
    target = target_for(model, model.project.label_config)
    examples = collect_examples(project_id, model.project.label_config, target, model.engine)
    artifact, metrics = learned_module(model.engine).train(examples, target, min_labels=model.min_labels)
    with transaction.atomic():
        ProjectModel.objects.select_for_update().filter(pk=model.pk).first()  # one numbering at a time
        number = (ModelVersion.objects.filter(project_id=project_id).aggregate(top=Max("number"))["top"] or 0) + 1
        version = ModelVersion.objects.create(
            project_id=project_id, engine=model.engine, number=number, version=f"{model.engine}-v{number}",
            artifact=artifact, metrics=metrics, trained_on=len(examples),
        )
        ProjectModel.objects.filter(pk=model.pk).update(active_version=version, training_error="")
    return version


def collect_examples(project_id: int, label_config: str, target: Target, engine: str) -> list:
    """One example per labelled task: the reviewed result, else the consensus, else the annotators' majority.
    Where the config has other controls, a result without this control's items says nothing about it and is
    skipped; where it is the only one, a result without spans teaches the span tagger what is not an entity."""
    only_control = len(parse_label_config(label_config).controls) == 1
    per_task: dict[int, list] = defaultdict(list)
    texts: dict[int, str] = {}
    rows = (
        Annotation.objects.filter(project_id=project_id, was_cancelled=False)
        .order_by("task_id", "id")
        .values_list("task_id", "result", "task__reviewed_result", "task__consensus_result", "task__data")
    )
    for task_id, result, reviewed, consensus, data in rows.iterator(chunk_size=READ_BATCH):
        text = data.get(target.data_field) if isinstance(data, dict) else None
        final = reviewed if reviewed is not None else consensus
        final = final if final is not None else result
        if not isinstance(text, str) or not (only_control or _fills(final, target)):
            continue
        texts[task_id] = text
        per_task[task_id].append(_labels_in(final, target, engine))
    build = _text_example if engine == Engine.TEXT_CLASSIFIER else _span_example
    examples = [build(texts[task_id], votes) for task_id, votes in per_task.items()]
    return [example for example in examples if example is not None]


def _fills(result, target: Target) -> bool:
    return any(isinstance(item, dict) and item.get("from_name") == target.control for item in result or [])


def _labels_in(result, target: Target, engine: str) -> tuple:
    items = [item for item in result or [] if isinstance(item, dict) and item.get("from_name") == target.control]
    if engine == Engine.TEXT_CLASSIFIER:
        return tuple(sorted(choice for item in items for choice in item.get("value", {}).get("choices", []) if choice in target.labels))
    spans = []
    for item in items:
        value = item.get("value", {})
        for label in value.get("labels", []):
            if label in target.labels and isinstance(value.get("start"), int) and isinstance(value.get("end"), int):
                spans.append((value["start"], value["end"], label))
    return tuple(sorted(spans))


def _majority(votes: list[tuple]) -> tuple:
    return Counter(votes).most_common(1)[0][0]


def _text_example(text: str, votes: list[tuple]) -> LabelledText | None:
    labels = _majority([vote for vote in votes if vote] or [()])
    return LabelledText(text, labels) if labels else None


def _span_example(text: str, votes: list[tuple]) -> LabelledSpans:
    return LabelledSpans(text, _majority(votes))
