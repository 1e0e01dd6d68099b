"""Annotator quality from plain rows: gold accuracy, agreement with consensus, DS reliability, throughput and
median lead time, with small samples flagged and shrunk toward the population rather than hidden."""
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Any

FEW_TASKS = 20  # below this many tasks an estimate is mostly noise
SESSION_GAP_SECONDS = 30 * 60


@dataclass(frozen=True)
class AnnotationRow:
    annotator_id: Any
    task_id: Any
    answer: Hashable | None = None  # compared with gold and consensus answers by equality
    lead_time: float | None = None  # seconds spent on the task
    submitted_at: datetime | float | None = None  # datetime or epoch seconds
    consensus_score: float | None = None  # 0..1 agreement with the consensus when equality does not fit (boxes, spans)


@dataclass(frozen=True)
class AnnotatorQuality:
    annotator_id: Any
    tasks_done: int
    gold_count: int
    gold_accuracy: float | None
    gold_accuracy_shrunk: float | None  # toward the population's gold accuracy; rank on this, not the raw one
    consensus_count: int
    consensus_agreement: float | None
    consensus_agreement_shrunk: float | None
    reliability: float | None  # Dawid-Skene P(label == truth), when a fit is given
    tasks_per_active_hour: float | None
    median_lead_time: float | None
    few_tasks: bool  # fewer than FEW_TASKS tasks: show the numbers, but as noisy
    few_gold_tasks: bool


def annotator_quality(rows: Iterable[AnnotationRow], *, gold: Mapping[Any, Hashable] | None = None,
                      consensus: Mapping[Any, Hashable] | None = None, reliability: Mapping[Any, float] | None = None,
                      few_tasks: int = FEW_TASKS, shrinkage: float = 10.0,
                      session_gap: float = SESSION_GAP_SECONDS) -> list[AnnotatorQuality]:
    """One AnnotatorQuality per annotator, ordered by annotator id.

    Agreement with consensus is the share of an annotator's answers equal to the task's consensus answer
    (or the mean of their `consensus_score`s); tasks without consensus do not count. Gold accuracy counts only
    gold tasks. Shrunk estimates add `shrinkage` pseudo-tasks at the population rate.
    Throughput is tasks per active hour: submissions are split into sessions wherever `session_gap` seconds pass
    without one; a session lasts from its first to its last submission plus the first task's lead time, so a
    break or a night away does not count as slow work. Without timestamps, the summed lead times stand in.
    """
    by_annotator: dict[Any, list[AnnotationRow]] = defaultdict(list)
    for row in rows:
        by_annotator[row.annotator_id].append(row)
    gold_hits = {annotator: _gold_hits(own, gold or {}) for annotator, own in by_annotator.items()}
    consensus_hits = {annotator: _consensus_hits(own, consensus or {}) for annotator, own in by_annotator.items()}
    gold_rate, consensus_rate = _population_rate(gold_hits.values()), _population_rate(consensus_hits.values())
    report = []
    for annotator in sorted(by_annotator, key=str):
        own = by_annotator[annotator]
        gold_scores, consensus_scores = gold_hits[annotator], consensus_hits[annotator]
        lead_times = [row.lead_time for row in own if row.lead_time is not None]
        report.append(AnnotatorQuality(
            annotator_id=annotator, tasks_done=len({row.task_id for row in own}),
            gold_count=len(gold_scores), gold_accuracy=_mean(gold_scores),
            gold_accuracy_shrunk=_shrunk(gold_scores, gold_rate, shrinkage),
            consensus_count=len(consensus_scores), consensus_agreement=_mean(consensus_scores),
            consensus_agreement_shrunk=_shrunk(consensus_scores, consensus_rate, shrinkage),
            reliability=None if reliability is None or annotator not in reliability else float(reliability[annotator]),
            tasks_per_active_hour=tasks_per_active_hour(own, session_gap),
            median_lead_time=float(median(lead_times)) if lead_times else None,
            few_tasks=len({row.task_id for row in own}) < few_tasks, few_gold_tasks=len(gold_scores) < few_tasks))
    return report


def tasks_per_active_hour(rows: list[AnnotationRow], session_gap: float = SESSION_GAP_SECONDS) -> float | None:
    if rows and all(row.submitted_at is not None for row in rows):
        active = _active_seconds(sorted((_epoch(row.submitted_at), row.lead_time or 0.0) for row in rows), session_gap)
    else:
        active = sum(row.lead_time or 0.0 for row in rows)
    return len(rows) / (active / 3600) if active > 0 else None


def _active_seconds(timed: list[tuple[float, float]], session_gap: float) -> float:
    """Time between submissions within a session, plus each session's first lead time (work before its submit)."""
    active = timed[0][1]
    for (previous, _), (moment, lead_time) in zip(timed, timed[1:]):
        active += lead_time if moment - previous > session_gap else moment - previous
    return active


def _gold_hits(rows: list[AnnotationRow], gold: Mapping[Any, Hashable]) -> list[float]:
    return [float(row.answer == gold[row.task_id]) for row in rows if row.task_id in gold]


def _consensus_hits(rows: list[AnnotationRow], consensus: Mapping[Any, Hashable]) -> list[float]:
    return [row.consensus_score if row.consensus_score is not None else float(row.answer == consensus[row.task_id])
            for row in rows if row.consensus_score is not None or row.task_id in consensus]


def _population_rate(scores_per_annotator: Iterable[list[float]]) -> float | None:
    every = [score for scores in scores_per_annotator for score in scores]
    return _mean(every)


def _shrunk(scores: list[float], population: float | None, strength: float) -> float | None:
    if not scores or population is None:
        return None
    return (sum(scores) + strength * population) / (len(scores) + strength)


def _mean(scores: list[float]) -> float | None:
    return sum(scores) / len(scores) if scores else None


def _epoch(moment: datetime | float) -> float:
    return moment.timestamp() if isinstance(moment, datetime) else float(moment)
