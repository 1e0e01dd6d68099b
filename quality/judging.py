"""An LLM judge beside the people: the human check of a task the judge answered confidently, and how well each
judge model version agrees with the human answers (accuracy, Cohen's kappa, position-swap consistency), with the
human judgments the checks saved.

The human answer of a task is its reviewed result when a reviewer settled it, else its consensus; a judge's
answer to a control is compared with the human item of the same control, value for value.
"""
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, Sum

from projects.control_types import JUDGE_VERSION_PREFIX
from projects.models import JudgeCheck, Prediction, Project, Task
from projects.services import settle_judge_check

from .engine.agreement import cohen_kappa

READ_CHUNK = 2000


def check_against_judge(task: Task, human_result: list) -> bool:
    """For a task whose one human check was pending: settle it. Answers whether the check disagreed (the task
    then needs the full overlap again, and its consensus waits for it)."""
    judged = (Prediction.objects.filter(task_id=task.pk, model_version__startswith=JUDGE_VERSION_PREFIX)
              .order_by("-id").values_list("result", flat=True).first())
    agreed = judged is not None and disagreements(judged, human_result) == []
    settle_judge_check(task_id=task.pk, agreed=agreed)
    return not agreed


def disagreements(judge_result: list, human_result: list) -> list[str]:
    """The controls the judge answered where the human answer differs (or is missing)."""
    human = _answers_by_control(human_result)
    return [name for name, answer in _answers_by_control(judge_result).items() if human.get(name) != answer]


def _answers_by_control(result: list | None) -> dict[str, str]:
    """Each control's answer as a canonical string: its items' values, choices in a fixed order."""
    by_control: dict[str, list] = defaultdict(list)
    for item in result or []:
        if isinstance(item, dict) and isinstance(item.get("value"), dict):
            value = dict(item["value"])
            if isinstance(value.get("choices"), list):
                value["choices"] = sorted(map(str, value["choices"]))
            by_control[str(item.get("from_name"))].append(value)
    return {name: json.dumps(sorted(values, key=json.dumps), sort_keys=True) for name, values in by_control.items()}


@dataclass
class JudgeTally:
    """One judge model version's answers read against the human ones."""

    model_version: str
    tasks_judged: int = 0
    swap_checked: int = 0
    swap_consistent: int = 0
    pairs: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, judge_result: list, details: dict, human_result: list | None) -> None:
        self.tasks_judged += 1
        if isinstance(details, dict) and details.get("swap_consistent") is not None:
            self.swap_checked += 1
            self.swap_consistent += bool(details["swap_consistent"])
        if human_result is None:
            return
        human = _answers_by_control(human_result)
        for control, answer in _answers_by_control(judge_result).items():
            if control in human:
                self.pairs[control].append((answer, human[control]))

    def report(self) -> dict[str, Any]:
        controls = [
            {"control": control, "compared": len(pairs), "accuracy": sum(a == b for a, b in pairs) / len(pairs),
             "cohen_kappa": cohen_kappa(pairs)}
            for control, pairs in sorted(self.pairs.items())
        ]
        return {
            "model_version": self.model_version, "tasks_judged": self.tasks_judged,
            "compared": max((row["compared"] for row in controls), default=0), "controls": controls,
            "swap_checked": self.swap_checked,
            "swap_consistency": self.swap_consistent / self.swap_checked if self.swap_checked else None,
        }


def judge_report(project: Project) -> dict[str, Any]:
    """Per judge model version, its agreement with the people; and what the one-check shortcut saved."""
    tallies: dict[str, JudgeTally] = {}
    rows = (Prediction.objects.filter(project=project, model_version__startswith=JUDGE_VERSION_PREFIX)
            .order_by("model_version", "task_id")
            .values_list("model_version", "result", "details", "task__reviewed_result", "task__consensus_result",
                         "task__consensus_at"))
    for version, result, details, reviewed, consensus, consensus_at in rows.iterator(chunk_size=READ_CHUNK):
        human = reviewed if reviewed is not None else (consensus if consensus_at is not None else None)
        tallies.setdefault(version, JudgeTally(version)).add(result, details, human)
    return {"judges": [tally.report() for tally in tallies.values()], "fewer_humans": fewer_humans(project)}


def fewer_humans(project: Project) -> dict[str, int]:
    """The one-check shortcut's counts: tasks waiting for their check, checks that agreed and that did not, and
    the human judgments saved (the overlap's other annotators on every task a check settled)."""
    counts = Task.objects.filter(project=project).exclude(judge_check=JudgeCheck.NONE).aggregate(
        pending=Count("id", filter=Q(judge_check=JudgeCheck.PENDING)),
        agreed=Count("id", filter=Q(judge_check=JudgeCheck.AGREED)),
        disagreed=Count("id", filter=Q(judge_check=JudgeCheck.DISAGREED)),
        agreed_annotations=Sum("annotation_count", filter=Q(judge_check=JudgeCheck.AGREED)),
    )
    saved = max(0, counts["agreed"] * project.overlap - (counts["agreed_annotations"] or 0))
    return {"checks_pending": counts["pending"], "checks_agreed": counts["agreed"],
            "checks_disagreed": counts["disagreed"], "human_judgments_saved": saved}
