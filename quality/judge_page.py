"""The admin's "LLM judges against people" page: per judge model version, how often it gave the human answer, its
Cohen's kappa and how often its answer survived the responses' order traded; and what the one-check shortcut saved."""
from dataclasses import dataclass

from django.shortcuts import render

from projects.control_types import percent

from .judging import judge_report


@dataclass(frozen=True)
class ControlRow:
    control: str
    compared: int
    accuracy: str
    kappa: str


@dataclass(frozen=True)
class JudgeRows:
    model_version: str
    tasks_judged: int
    swap: str  # "92% of 50 tasks", or "not asked both ways"
    controls: list[ControlRow]


def kappa_text(value: float | None) -> str:
    return "undefined (one answer only)" if value is None else f"{value:.2f}"


def judge_rows(report: dict) -> list[JudgeRows]:
    rows = []
    for judge in report["judges"]:
        swap = (f"{percent(judge['swap_consistency'])} of {judge['swap_checked']} task{'s' * (judge['swap_checked'] != 1)}"
                if judge["swap_checked"] else "not asked both ways")
        controls = [ControlRow(row["control"], row["compared"], percent(row["accuracy"]), kappa_text(row["cohen_kappa"]))
                    for row in judge["controls"]]
        rows.append(JudgeRows(judge["model_version"], judge["tasks_judged"], swap, controls))
    return rows


def project_judges(admin_site, request, project):
    report = judge_report(project)
    context = {
        **admin_site.each_context(request), "project": project, "title": f"LLM judges against people in {project}",
        "judges": judge_rows(report), "fewer": report["fewer_humans"],
    }
    return render(request, "admin/quality/project_judges.html", context)
