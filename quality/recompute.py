"""Recompute a whole project as a job: fit Dawid-Skene on its choices, merge every finished task, score the
annotators and summarise agreement. Two streaming passes over the annotations, chunks of tasks at a time."""
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from projects.models import AggregationMethod, Annotation, Project, ReviewStatus, Task
from projects.services import ask_for_more_annotations, project_config
from workers import jobs
from workers.consensus import (AnnotationRow, DawidSkeneFit, agreement_with_consensus, annotator_quality,
                               choices_agreement_summary, encode_crowd_labels, fit_dawid_skene, recommended_method,
                               summarize_agreement)
from workers.models import Job

from .consensus import CONSENSUS_FIELDS, controls_of, merge, routing_decision, task_text
from .models import AnnotatorScore

EMPTY_SUMMARY = {"computed_at": None, "method": None, "overall": None, "per_label": {}, "histogram": [], "tasks": 0}
TASK_CHUNK = 2000


def start_recompute(*, project: Project, user) -> Job:
    from workers.tasks import run_consensus_job

    with transaction.atomic():
        job = jobs.create_job(kind=Job.Kind.CONSENSUS, project=project, created_by=user, total=project.finished_task_count)
        jobs.enqueue(run_consensus_job, job)
    return job


def run_recompute(job_id: int) -> None:
    job = jobs.claim_job(job_id)
    if job is None:
        return
    project = job.project
    config = project_config(project)
    controls = controls_of(config)
    fits = fit_choices(project, controls)
    method = resolve_method(project, fits)
    reliability = {name: fit.confusion_by_annotator() for name, (fit, _) in fits.items()} if method == "dawid_skene" else None
    project.quality_summary = {**(project.quality_summary or {}), "class_prior": {n: f.class_prior.tolist() for n, (f, _) in fits.items()}}
    tally = Tally()
    for chunk in finished_task_chunks(project):
        jobs.raise_if_cancelled(job_id)
        merge_chunk(project, config, controls, chunk, reliability, tally)
        jobs.report_progress(job_id, done=tally.tasks)
    save_scores(project, controls, fits, tally, method)
    summary = summarise(project, fits, tally, method)
    Project.objects.filter(pk=project.pk).update(quality_summary=summary)
    jobs.finish_job(job_id, status=Job.Status.SUCCEEDED, result={
        "tasks": tally.tasks, "method": method, "sent_to_review": tally.sent_to_review, "asked_for_more": tally.asked_for_more,
        "dawid_skene": {name: {"iterations": f.iterations, "converged": f.converged} for name, (f, _) in fits.items()},
    })


def fit_choices(project: Project, controls: list[dict]) -> dict[str, tuple[DawidSkeneFit, object]]:
    """First pass: Dawid-Skene per single-choice control over every finished task's labels, gold answers clamped."""
    single = [c for c in controls if c["type"] == "choices" and not c["multiple"]]
    if not single:
        return {}
    rows = {c["name"]: [] for c in single}
    annotations = Annotation.objects.filter(project=project, was_cancelled=False, task__is_finished=True)
    for task_id, author, result in annotations.values_list("task_id", "completed_by_id", "result").iterator(chunk_size=5000):
        for name, choice in first_choices(result).items():
            if name in rows and author is not None:
                rows[name].append((task_id, author, choice))
    gold = gold_choices(project)
    fits = {}
    for control in single:
        labels = encode_crowd_labels(rows[control["name"]], control["values"])
        if labels.n_tasks:
            fits[control["name"]] = (fit_dawid_skene(labels, gold=labels.encode_gold(gold.get(control["name"], {}))), labels)
    return fits


def first_choices(result: list) -> dict[str, str]:
    return {item.get("from_name"): item["value"]["choices"][0] for item in result or []
            if item.get("type") == "choices" and item.get("value", {}).get("choices")}


def gold_choices(project: Project) -> dict[str, dict[int, str]]:
    gold: dict[str, dict[int, str]] = defaultdict(dict)
    for task_id, result in Task.objects.filter(project=project, is_gold=True).exclude(gold_result=None).values_list("id", "gold_result"):
        for name, choice in first_choices(result).items():
            gold[name][task_id] = choice
    return gold


def resolve_method(project: Project, fits: dict) -> str:
    if not fits or project.aggregation_method == AggregationMethod.MAJORITY:
        return "majority"
    if project.aggregation_method == AggregationMethod.DAWID_SKENE:
        return "dawid_skene"
    return "dawid_skene" if all(recommended_method(labels) == "dawid_skene" for _, labels in fits.values()) else "majority"


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


@dataclass
class Tally:
    """What the second pass learns on its way through the tasks."""
    tasks: int = 0
    sent_to_review: int = 0
    asked_for_more: int = 0
    agreements: list = field(default_factory=list)
    per_label: list = field(default_factory=list)
    annotation_rows: list = field(default_factory=list)


def merge_chunk(project: Project, config, controls: list[dict], chunk, reliability, tally: Tally) -> None:
    now = timezone.now()
    changed, review, more = [], [], []
    for task, annotations in chunk:
        tally.tasks += 1
        if not annotations:
            continue
        pairs = [(a["completed_by_id"], a["result"]) for a in annotations]
        merged = merge(project, controls, pairs, task_key=task.pk, text=task_text(config, task.data), reliability_by_control=reliability)
        task.consensus_result, task.agreement, task.consensus_confidence = merged.result, merged.agreement, merged.confidence
        task.consensus_method, task.consensus_at, task.updated_at = merged.method, now, now
        changed.append(task)
        tally.agreements.append(merged.agreement)
        tally.per_label.extend(outcome.details.get("per_label", {}) for outcome in merged.details["controls"].values())
        decision = routing_decision(task, project, merged.agreement)
        (review if decision == "review" else more if decision == "more" else []).append(task.pk)
        tally.annotation_rows.extend(score_rows(controls, task, annotations, merged.result))
    with transaction.atomic():
        Task.objects.bulk_update(changed, CONSENSUS_FIELDS, batch_size=500)
        Task.objects.filter(pk__in=review).update(review_status=ReviewStatus.PENDING)
        for task_id in more:
            ask_for_more_annotations(task_id=task_id, count=1)
    tally.sent_to_review += len(review)
    tally.asked_for_more += len(more)


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
    """Mean over controls of one result's agreement with another (1.0 = the same answer)."""
    scores = []
    for control in controls:
        own = [i for i in result or [] if i.get("from_name") == control["name"]]
        theirs = [i for i in other or [] if i.get("from_name") == control["name"]]
        if own or theirs:
            score = agreement_with_consensus(control, own, theirs)
            if score is not None:
                scores.append(score)
    return sum(scores) / len(scores) if scores else None


def save_scores(project: Project, controls: list[dict], fits: dict, tally: Tally, method: str) -> None:
    gold = {row.task_id: True for row in tally.annotation_rows if row.answer is not None}
    reliability = {}
    for fit, _ in fits.values():
        for author, value in fit.reliability_by_annotator().items():
            reliability.setdefault(author, []).append(value)
    mean_reliability = {author: sum(values) / len(values) for author, values in reliability.items()}
    # A row's answer is whether it matched its gold task's known answer, so equality with True is gold accuracy.
    qualities = annotator_quality(tally.annotation_rows, gold=gold, reliability=mean_reliability)
    confusion = defaultdict(dict)
    if method == "dawid_skene":
        for name, (fit, _) in fits.items():
            for author, matrix in fit.confusion_by_annotator().items():
                confusion[author][name] = matrix.tolist()
    scores = [
        AnnotatorScore(
            project=project, user_id=q.annotator_id, tasks_done=q.tasks_done, gold_count=q.gold_count,
            gold_correct=round((q.gold_accuracy or 0) * q.gold_count), consensus_count=q.consensus_count,
            consensus_agreement=q.consensus_agreement, reliability=q.reliability, median_lead_time=q.median_lead_time,
            tasks_per_hour=q.tasks_per_active_hour, confusion=confusion.get(q.annotator_id, {}),
        )
        for q in qualities
    ]
    with transaction.atomic():
        AnnotatorScore.objects.filter(project=project).delete()
        AnnotatorScore.objects.bulk_create(scores)


def summarise(project: Project, fits: dict, tally: Tally, method: str) -> dict:
    overall = summarize_agreement(tally.agreements, tally.per_label)
    first_choices_summary = next((choices_agreement_summary(labels) for _, labels in fits.values()), None)
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
    }
