"""Recompute a whole project as a job: fit Dawid-Skene on its one-class-per-answer controls (single choices,
pairwise), merge every finished task, score the annotators and summarise agreement. Two streaming passes over the
annotations, chunks of tasks at a time."""
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from projects.control_types import control_type_for_result
from projects.jobs import Progress, finish_job, start_job
from projects.models import AggregationMethod, Annotation, Job, Project, Task
from projects.services import ask_for_more_annotations, project_config

from .consensus import control_figures, controls_of, routing_decision, task_text, update_consensus_columns
from .engine import (AnnotationRow, CrowdLabels, DawidSkeneFit, TaskConsensus, annotator_quality, choices_agreement_summary,
                     class_prior, encode_crowd_labels, fit_dawid_skene, majority_vote, merge_control, pairwise_agreement,
                     recommended_method, stable_seed, summarize_agreement, vote_counts)
from .merging import agreement_with_consensus, merge_by_type
from .models import AnnotatorScore
from .review import send_to_review

EMPTY_SUMMARY = {"computed_at": None, "method": None, "overall": None, "per_label": {}, "histogram": [], "tasks": 0,
                 "controls": {}}
TASK_CHUNK = 2000


def start_recompute(*, project: Project, user) -> Job:
    with transaction.atomic():
        return start_job(kind=Job.Kind.CONSENSUS, project=project, created_by=user, total=project.finished_task_count)


def run_recompute(job: Job, progress: Progress) -> None:
    """The consensus job's body (the job is claimed): fit, merge every finished task, score the annotators."""
    project = job.project
    config = project_config(project)
    controls = controls_of(config)
    fits = fit_choices(project, controls)
    method = resolve_method(project, fits)
    decisions = {name: ChoiceDecisions.from_fit(fit, labels, method) for name, (fit, labels) in fits.items()}
    project.quality_summary = {**(project.quality_summary or {}),
                               "class_prior": {name: d.class_prior for name, d in decisions.items()}}
    tally = Tally(per_control=agreement_tallies(controls))
    choices_only = bool(decisions) and all(c["name"] in decisions for c in controls) and not any(
        own.reads_annotations for own in tally.per_control.values())
    chunks = choice_task_chunks(decisions) if choices_only else finished_task_chunks(project)
    for chunk in chunks:
        merge_chunk(project, config, controls, chunk, decisions, tally)
        progress(tally.tasks)
    if choices_only:
        tally.annotation_rows = timing_rows(project)
    save_scores(project, controls, fits, decisions if choices_only else None, tally, method)
    summary = summarise(project, controls, fits, tally, method)
    Project.objects.filter(pk=project.pk).update(quality_summary=summary)
    finish_job(job.pk, status=Job.Status.SUCCEEDED, result={
        "tasks": tally.tasks, "method": method, "sent_to_review": tally.sent_to_review, "asked_for_more": tally.asked_for_more,
        "dawid_skene": {name: {"iterations": f.iterations, "converged": f.converged} for name, (f, _) in fits.items()},
    })


def crowd_controls(controls: list[dict]) -> dict[str, dict]:
    """The controls whose answers are one class each (their type says so: crowd_classes), by name."""
    return {c["name"]: c for c in controls if (own := control_type_for_result(c["type"])) and own.crowd_classes(c)}


def fit_choices(project: Project, controls: list[dict]) -> dict[str, tuple[DawidSkeneFit, object]]:
    """First pass: Dawid-Skene per crowd control (a single choice, a pairwise) over every finished task's labels,
    gold answers clamped."""
    crowd = crowd_controls(controls)
    if not crowd:
        return {}
    rows = {name: [] for name in crowd}
    for task_id, author, answers in choice_rows(project, crowd):
        for name, answer in answers.items():
            if name in rows and author is not None:
                rows[name].append((task_id, author, answer))
    gold = gold_choices(project, crowd)
    fits = {}
    for name, control in crowd.items():
        labels = encode_crowd_labels(rows[name], control_type_for_result(control["type"]).crowd_classes(control))
        if labels.n_tasks:
            fits[name] = (fit_dawid_skene(labels, gold=labels.encode_gold(gold.get(name, {}))), labels)
    return fits


def choice_rows(project: Project, crowd: dict[str, dict]):
    """(task id, annotator, {control: its answer}) for every submitted annotation of a finished task. PostgreSQL
    picks the answers out of the JSON itself, so the worker never decodes whole results."""
    annotations = Annotation.objects.filter(project=project, was_cancelled=False, task__is_finished=True)
    if connection.vendor != "postgresql":
        for task_id, author, result in annotations.values_list("task_id", "completed_by_id", "result").iterator(chunk_size=5000):
            yield task_id, author, first_choices(result, crowd)
        return
    names = list(crowd)
    picks = {f"choice_{index}": RawSQL(_answer_path(crowd[name]), [name]) for index, name in enumerate(names)}
    picked = annotations.annotate(**picks).values_list("task_id", "completed_by_id", *picks)
    for task_id, author, *choices in picked.iterator(chunk_size=10000):
        yield task_id, author, {name: choice for name, choice in zip(names, choices) if choice is not None}


def _answer_path(control: dict) -> str:
    """SQL for the control's first answer in an annotation's result (the type's own crowd_path, a constant)."""
    own = control_type_for_result(control["type"])
    return (f"jsonb_path_query_first(result, '$[*] ? (@.type == \"{own.result_type}\" && @.from_name == $name)."
            f"{own.crowd_path}', jsonb_build_object('name', %s::text)) #>> '{{}}'")


def first_choices(result: list, crowd: dict[str, dict]) -> dict[str, str]:
    """{control: its first answer} of one result, for the crowd controls."""
    answers: dict[str, str] = {}
    for item in result or []:
        control = crowd.get(item.get("from_name"))
        if control is None or item.get("type") != control["type"] or item["from_name"] in answers:
            continue
        answer = control_type_for_result(control["type"]).crowd_answer(item)
        if isinstance(answer, str):
            answers[item["from_name"]] = answer
    return answers


def gold_choices(project: Project, crowd: dict[str, dict]) -> dict[str, dict[int, str]]:
    gold: dict[str, dict[int, str]] = defaultdict(dict)
    for task_id, result in Task.objects.filter(project=project, is_gold=True).exclude(gold_result=None).values_list("id", "gold_result"):
        for name, choice in first_choices(result, crowd).items():
            gold[name][task_id] = choice
    return gold


def resolve_method(project: Project, fits: dict) -> str:
    if not fits or project.aggregation_method == AggregationMethod.MAJORITY:
        return "majority"
    if project.aggregation_method == AggregationMethod.DAWID_SKENE:
        return "dawid_skene"
    return "dawid_skene" if all(recommended_method(labels) == "dawid_skene" for _, labels in fits.values()) else "majority"


@dataclass
class ChoiceDecisions:
    """One single-choice control's answer for every task of the project, decided at once from the arrays:
    Dawid-Skene's decoded label and posterior, or the majority vote and its share."""
    control_values: list
    task_ids: np.ndarray  # sorted
    label: np.ndarray  # class index, -1 for none
    confidence: np.ndarray
    agreement: np.ndarray  # pairwise; NaN below two annotators
    class_prior: list
    method_name: str

    @classmethod
    def from_fit(cls, fit: DawidSkeneFit, labels: CrowdLabels, method: str) -> "ChoiceDecisions":
        agreement = pairwise_agreement(vote_counts(labels))
        if method == "dawid_skene":
            return cls(list(labels.classes), labels.task_ids, fit.label, fit.confidence, agreement,
                       fit.class_prior.tolist(), "dawid_skene")
        vote = majority_vote(labels, tie_break="prior")
        return cls(list(labels.classes), labels.task_ids, vote.label, vote.vote_share, agreement,
                   class_prior(labels).tolist(), "majority")

    def for_task(self, task_id: int) -> tuple[str | None, float | None, float | None]:
        """(chosen value, confidence, agreement) for one task; Nones when nobody answered it."""
        index = int(np.searchsorted(self.task_ids, task_id))
        if index >= len(self.task_ids) or self.task_ids[index] != task_id or self.label[index] < 0:
            return None, None, None
        agreement = float(self.agreement[index])
        return self.control_values[self.label[index]], float(self.confidence[index]), None if np.isnan(agreement) else agreement


def finished_task_chunks(project: Project):
    """Finished tasks in id order, TASK_CHUNK at a time, each with its submitted annotations (two queries)."""
    last_id = 0
    while True:
        tasks = list(Task.objects.filter(project=project, is_finished=True, id__gt=last_id).order_by("id")
                     .only("id", "data", "is_gold", "gold_result", "extra_annotations", "review_status")[:TASK_CHUNK])
        if not tasks:
            return
        by_task = defaultdict(list)
        rows = Annotation.objects.filter(task_id__in=[t.pk for t in tasks], was_cancelled=False).order_by("id")
        for row in rows.values("task_id", "completed_by_id", "result", "lead_time", "created_at"):
            by_task[row["task_id"]].append(row)
        yield [(task, by_task.get(task.pk, [])) for task in tasks]
        last_id = tasks[-1].pk


def choice_task_chunks(decisions: dict):
    """When every control is a single choice, the decisions already hold every answer: the tasks need only their
    routing state, and no annotation is read again."""
    task_ids = np.unique(np.concatenate([d.task_ids for d in decisions.values()]))
    for start in range(0, len(task_ids), TASK_CHUNK):
        ids = task_ids[start:start + TASK_CHUNK].tolist()
        states = Task.objects.filter(pk__in=ids).order_by("id").values_list("id", "review_status", "extra_annotations", "is_gold")
        yield [(TaskState(*state), None) for state in states]


class TaskState(NamedTuple):
    """What merging and routing read of a task whose answers are all decided project-wide."""
    pk: int
    review_status: str
    extra_annotations: int
    is_gold: bool
    data: dict = {}


def timing_rows(project: Project) -> list[AnnotationRow]:
    """Who annotated what and when, without the results: enough for throughput and lead time."""
    annotations = Annotation.objects.filter(project=project, was_cancelled=False, task__is_finished=True).exclude(completed_by=None)
    return [
        AnnotationRow(annotator_id=author, task_id=task_id, lead_time=lead_time, submitted_at=created_at)
        for author, task_id, lead_time, created_at in
        annotations.values_list("completed_by_id", "task_id", "lead_time", "created_at").iterator(chunk_size=10000)
    ]


@dataclass
class Tally:
    """What the second pass learns on its way through the tasks."""
    tasks: int = 0
    sent_to_review: int = 0
    asked_for_more: int = 0
    agreements: list = field(default_factory=list)
    per_label: list = field(default_factory=list)
    annotation_rows: list = field(default_factory=list)
    per_control: dict = field(default_factory=dict)  # {control name: its type's AgreementTally}


def agreement_tallies(controls: list[dict]) -> dict:
    return {c["name"]: own.agreement_tally(c) for c in controls if (own := control_type_for_result(c["type"]))}


def merge_chunk(project: Project, config, controls: list[dict], chunk, decisions: dict, tally: Tally) -> None:
    changed, review, more = [], [], []
    for task, annotations in chunk:  # annotations None: every control is decided project-wide
        tally.tasks += 1
        if annotations == []:
            continue
        merged = merge_task(project, config, controls, task, annotations, decisions, tally.per_control)
        changed.append((task.pk, merged.result, merged.agreement, merged.confidence, merged.method, control_figures(merged)))
        tally.agreements.append(merged.agreement)
        tally.per_label.extend(merged.details["per_label"])
        decision = routing_decision(task, project, merged.agreement)
        (review if decision == "review" else more if decision == "more" else []).append(task.pk)
        if annotations:
            tally.annotation_rows.extend(score_rows(controls, task, annotations, merged.result))
    with transaction.atomic():
        update_consensus_columns(changed)
        send_to_review(review)
        for task_id in more:
            ask_for_more_annotations(task_id=task_id, count=1)
    tally.sent_to_review += len(review)
    tally.asked_for_more += len(more)


def merge_task(project: Project, config, controls: list[dict], task: Task, annotations: list[dict] | None,
               decisions: dict, tallies: dict) -> TaskConsensus:
    """Crowd controls (single choice, pairwise) take the project-wide decision; the others (boxes, spans,
    multiple choice, text, rankings, ratings) are merged by the engine here, task by task. `annotations` is None
    when every control is decided project-wide; each control's tally is told about its merge."""
    items, agreements, confidences, per_label, per_control = [], [], [], [], {}
    seed = stable_seed(task.pk)
    text = task_text(config, task.data) if len(decisions) < len(controls) else None
    for control in controls:
        own = None if annotations is None else [
            (a["completed_by_id"], [i for i in a["result"] or [] if i.get("from_name") == control["name"]]) for a in annotations]
        if control["name"] in decisions:
            outcome = decided_outcome(control, decisions[control["name"]], task.pk, seed)
        else:
            outcome = merge_control(control, own, merge_by_type, task_key=task.pk, text=text,
                                    iou_threshold=project.iou_threshold, box_fusion=project.box_fusion)
            if outcome is None:  # a control type without a consensus (a free-form field, say)
                continue
            per_label.append(outcome.details.get("per_label", {}))
        if control["name"] in tallies:
            tallies[control["name"]].add(task.pk, own, outcome)
        per_control[control["name"]] = outcome
        items.extend(outcome.result)
        if outcome.agreement is not None:
            agreements.append(outcome.agreement)
        if outcome.confidence is not None:
            confidences.append(outcome.confidence)
    method = next(iter(decisions.values())).method_name if decisions else "majority"
    return TaskConsensus(items, sum(agreements) / len(agreements) if agreements else None,
                         min(confidences) if confidences else None, method, {"per_label": per_label, "controls": per_control})


def decided_outcome(control: dict, decision: "ChoiceDecisions", task_id: int, seed: int) -> TaskConsensus:
    value, confidence, agreement = decision.for_task(task_id)
    own = control_type_for_result(control["type"])
    result = [] if value is None else [own.crowd_item(control, value, seed=seed)]
    return TaskConsensus(result, agreement, confidence, decision.method_name)


def score_rows(controls: list[dict], task: Task, annotations: list[dict], consensus: list) -> list[AnnotationRow]:
    """One row per annotation for the annotator scores: its agreement with the consensus and, on a gold task,
    whether it matches the known answer (the answer is compared by equality, so it is that match itself)."""
    rows = []
    for annotation in annotations:
        if annotation["completed_by_id"] is None:
            continue
        gold_match = None
        if task.is_gold and task.gold_result is not None:
            gold_match = result_agreement(controls, annotation["result"], task.gold_result) == 1.0
        rows.append(AnnotationRow(
            annotator_id=annotation["completed_by_id"], task_id=task.pk, answer=gold_match,
            lead_time=annotation["lead_time"], submitted_at=annotation["created_at"],
            consensus_score=result_agreement(controls, annotation["result"], consensus),
        ))
    return rows


def result_agreement(controls: list[dict], result: list, other: list) -> float | None:
    """Mean over controls of one result's agreement with another (1.0 = the same answer). Single choices compare
    directly; the engine scores the rest on their own scale (box F1, span F1)."""
    scores = []
    crowd = crowd_controls(controls)
    mine, theirs = first_choices(result, crowd), first_choices(other, crowd)
    for control in controls:
        if control["name"] in crowd:
            if control["name"] in mine and control["name"] in theirs:
                scores.append(float(mine[control["name"]] == theirs[control["name"]]))
            continue
        own = [i for i in result or [] if i.get("from_name") == control["name"]]
        other_items = [i for i in other or [] if i.get("from_name") == control["name"]]
        if own or other_items:
            score = agreement_with_consensus(control, own, other_items)
            if score is not None:
                scores.append(score)
    return sum(scores) / len(scores) if scores else None


def save_scores(project: Project, controls: list[dict], fits: dict, decisions: dict | None, tally: Tally, method: str) -> None:
    """Rewrite the project's annotator scores. With `decisions` (every control a single choice) the agreement
    with consensus and gold accuracy come from the label arrays at once; otherwise from the scored rows."""
    gold = {row.task_id: True for row in tally.annotation_rows if row.answer is not None}
    # A row's answer is whether it matched its gold task's known answer, so equality with True is gold accuracy.
    qualities = annotator_quality(tally.annotation_rows, gold=gold, reliability=mean_reliability(fits))
    hits = choice_hits(fits, decisions, gold_choices(project, crowd_controls(controls))) if decisions else {}
    confusion = defaultdict(dict)
    if method == "dawid_skene":
        for name, (fit, _) in fits.items():
            for author, matrix in fit.confusion_by_annotator().items():
                confusion[author][name] = matrix.tolist()
    scores = []
    for q in qualities:
        consensus_count, consensus_hits, gold_count, gold_hits = hits.get(q.annotator_id) or (
            q.consensus_count, (q.consensus_agreement or 0) * q.consensus_count, q.gold_count, (q.gold_accuracy or 0) * q.gold_count)
        scores.append(AnnotatorScore(
            project=project, user_id=q.annotator_id, tasks_done=q.tasks_done, gold_count=gold_count,
            gold_correct=round(gold_hits), consensus_count=consensus_count,
            consensus_agreement=consensus_hits / consensus_count if consensus_count else None, reliability=q.reliability,
            median_lead_time=q.median_lead_time, tasks_per_hour=q.tasks_per_active_hour,
            confusion=confusion.get(q.annotator_id, {}),
        ))
    with transaction.atomic():
        AnnotatorScore.objects.filter(project=project).delete()
        AnnotatorScore.objects.bulk_create(scores)


def mean_reliability(fits: dict) -> dict:
    reliability = defaultdict(list)
    for fit, _ in fits.values():
        for author, value in fit.reliability_by_annotator().items():
            reliability[author].append(value)
    return {author: sum(values) / len(values) for author, values in reliability.items()}


def choice_hits(fits: dict, decisions: dict, gold: dict) -> dict:
    """{annotator: (labels on decided tasks, of those equal to the consensus, labels on gold tasks, of those
    right)}, summed over the single-choice controls, with numpy over the label arrays."""
    totals = defaultdict(lambda: np.zeros(4))
    for name, (_, labels) in fits.items():
        decided = decisions[name].label[labels.task]
        gold_tasks, gold_classes = labels.encode_gold(gold.get(name, {}))
        gold_label = np.full(labels.n_tasks, -1)
        gold_label[gold_tasks] = gold_classes
        known = gold_label[labels.task]
        columns = [decided >= 0, (decided >= 0) & (labels.label == decided), known >= 0, (known >= 0) & (labels.label == known)]
        per_annotator = [np.bincount(labels.annotator, weights=column, minlength=labels.n_annotators) for column in columns]
        for index, author in enumerate(labels.annotator_ids):
            totals[author] += [counts[index] for counts in per_annotator]
    return {author: (int(t[0]), float(t[1]), int(t[2]), float(t[3])) for author, t in totals.items()}


def summarise(project: Project, controls: list[dict], fits: dict, tally: Tally, method: str) -> dict:
    """The agreement endpoint's answer. `overall` and `per_label` read the first single-choice control's labels
    (the first pairwise's when there is none); `controls` says per control what its type measures."""
    overall = summarize_agreement(tally.agreements, tally.per_label)
    types = {c["name"]: c["type"] for c in controls}
    first = sorted(fits.items(), key=lambda pair: types.get(pair[0]) != "choices")
    first_choices_summary = next((choices_agreement_summary(labels) for _, (_, labels) in first), None)
    return {
        "computed_at": timezone.now().isoformat(), "method": method, "tasks": overall.task_count,
        "class_prior": (project.quality_summary or {}).get("class_prior", {}),
        "overall": {
            "mean_task_agreement": overall.overall,
            "alpha": first_choices_summary.krippendorff_alpha if first_choices_summary else None,
            "kappa": first_choices_summary.fleiss_kappa if first_choices_summary else None,
        },
        "per_label": first_choices_summary.per_label if first_choices_summary else overall.per_label,
        "histogram": overall.histogram,
        "controls": {name: own.summary() for name, own in tally.per_control.items()},
    }
