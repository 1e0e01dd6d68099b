"""The project managers' pages in the admin: quality (agreement figures, a histogram, the annotator table) and the
model leaderboard (table, interval chart, win-rate heat table)."""
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from projects.control_types import control_type_for_result
from projects.services import project_config

from . import leaderboard, leaderboard_display, leaderboard_jobs, recompute, selectors


def project_quality(admin_site, request, project):
    if request.method == "POST":
        job = recompute.start_recompute(project=project, user=request.user)
        messages.info(request, f"Recomputing consensus in the background (job {job.pk}).")
        return redirect("admin:projects_job_change", job.pk)
    summary = project.quality_summary or recompute.EMPTY_SUMMARY
    context = {
        **admin_site.each_context(request),
        "project": project, "summary": summary, "scores": selectors.annotator_scores(project),
        "computed_at": parse_datetime(summary["computed_at"]) if summary.get("computed_at") else None,
        "histogram": histogram_bars(summary.get("histogram") or []),
        "controls": control_facts(summary.get("controls") or {}),
        "pending_review": selectors.pending_review_count(project),
        "title": f"Quality of {project}",
    }
    return render(request, "admin/quality/project_quality.html", context)


def control_facts(summaries: dict) -> list[dict]:
    """Per control of the last recompute: its tag and its type's readable rows (a type since removed: none)."""
    shown = []
    for name, summary in summaries.items():
        known = control_type_for_result(summary.get("type"))
        if known is not None:
            shown.append({"name": name, "tag": known.tag, "facts": known.agreement_facts(summary)})
    return shown


def histogram_bars(counts: list[int]) -> list[dict]:
    tallest = max(counts, default=0) or 1
    size = 1 / len(counts) if counts else 0
    return [
        {"count": count, "height": round(100 * count / tallest), "range": f"{i * size:.1f}–{(i + 1) * size:.1f}"}
        for i, count in enumerate(counts)
    ]


class LeaderboardForm(forms.Form):
    source = forms.ChoiceField(
        choices=[(leaderboard.CONSENSUS, "consensus (one judgment per task)"), (leaderboard.ANNOTATIONS, "every annotation")],
        initial=leaderboard.CONSENSUS, required=False,
    )
    bootstrap = forms.IntegerField(label="bootstrap rounds", initial=100, min_value=0, max_value=1000, required=False)

    DEFAULTS = {"source": leaderboard.CONSENSUS, "bootstrap_rounds": 100}

    def parameters(self) -> dict:
        return {"source": self.cleaned_data["source"] or self.DEFAULTS["source"],
                "bootstrap_rounds": self.DEFAULTS["bootstrap_rounds"] if self.cleaned_data["bootstrap"] is None
                else self.cleaned_data["bootstrap"]}


def project_leaderboard(admin_site, request, project):
    """The board computed for the page, or for a project above LABELER_LEADERBOARD_INLINE_MAX the newest snapshot;
    the Recompute button (POST) queues the job and comes back here, which follows its progress."""
    form = LeaderboardForm(request.POST or request.GET or None)
    context = {
        **admin_site.each_context(request),
        "project": project, "form": form, "title": f"Model leaderboard of {project}",
        "judged": bool(leaderboard.judged_controls(project_config(project)).controls),
    }
    if form.is_bound and not form.is_valid():
        return render(request, "admin/quality/project_leaderboard.html", context, status=400)
    parameters = form.parameters() if form.is_bound else LeaderboardForm.DEFAULTS
    if request.method == "POST":
        return recompute_leaderboard(request, project, parameters)
    context |= board_context(project, parameters)
    return render(request, "admin/quality/project_leaderboard.html", context)


def recompute_leaderboard(request, project, parameters: dict):
    job = leaderboard_jobs.start_leaderboard_job(project=project, user=request.user, source=parameters["source"],
                                                 bootstrap=parameters["bootstrap_rounds"])
    if job.status == job.Status.FAILED:
        messages.error(request, f"The leaderboard job {job.pk} could not start: {job.error}")
    else:
        messages.info(request, f"Computing the leaderboard in the background (job {job.pk}).")
    query = urlencode({"source": parameters["source"], "bootstrap": parameters["bootstrap_rounds"]})
    return redirect(f"{reverse('admin:projects_project_leaderboard', args=[project.pk])}?{query}")


def board_context(project, parameters: dict) -> dict:
    source = parameters["source"]
    context = {"inline": leaderboard_jobs.computes_inline(project, source), "inline_max": settings.LABELER_LEADERBOARD_INLINE_MAX,
               "source": source,
               "running": leaderboard_jobs.unfinished_job(project, source), "snapshot": None}
    if context["inline"]:
        board = leaderboard.project_leaderboard(project, **parameters)
    else:
        context["snapshot"] = snapshot = leaderboard_jobs.newest_snapshot(project, source)
        if snapshot is None:
            return context | {"board": None}
        board = snapshot.board
        context["annotations_changed"] = leaderboard_jobs.annotations_changed_since(snapshot, project)
    controls = leaderboard_display.rating_controls_of(board)
    return context | {
        "board": board, "rating_controls": controls, "rows": leaderboard_display.table_rows(board, controls),
        "chart": leaderboard_display.interval_chart(board), "heat": leaderboard_display.heat_table(board),
    }
