"""The project managers' pages in the admin: quality (agreement figures, a histogram, the annotator table) and the
model leaderboard (table, interval chart, win-rate heat table)."""
from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render

from projects.control_types import control_type_for_result
from projects.services import project_config

from . import leaderboard, leaderboard_display, recompute, selectors


def project_quality(admin_site, request, project):
    if request.method == "POST":
        job = recompute.start_recompute(project=project, user=request.user)
        messages.info(request, f"Recomputing consensus in the background (job {job.pk}).")
        return redirect("admin:projects_job_change", job.pk)
    summary = project.quality_summary or recompute.EMPTY_SUMMARY
    context = {
        **admin_site.each_context(request),
        "project": project, "summary": summary, "scores": selectors.annotator_scores(project),
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

    def parameters(self) -> dict:
        return {"source": self.cleaned_data["source"] or leaderboard.CONSENSUS,
                "bootstrap_rounds": 100 if self.cleaned_data["bootstrap"] is None else self.cleaned_data["bootstrap"]}


def project_leaderboard(admin_site, request, project):
    form = LeaderboardForm(request.GET or None)
    context = {
        **admin_site.each_context(request),
        "project": project, "form": form, "title": f"Model leaderboard of {project}",
        "judged": bool(leaderboard.judged_controls(project_config(project)).controls),
    }
    if request.GET and not form.is_valid():
        return render(request, "admin/quality/project_leaderboard.html", context, status=400)
    board = leaderboard.project_leaderboard(project, **(form.parameters() if request.GET else {}))
    controls = leaderboard_display.rating_controls_of(board)
    context |= {
        "board": board, "rating_controls": controls, "rows": leaderboard_display.table_rows(board, controls),
        "chart": leaderboard_display.interval_chart(board), "heat": leaderboard_display.heat_table(board),
    }
    return render(request, "admin/quality/project_leaderboard.html", context)
