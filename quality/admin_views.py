"""The project managers' quality page in the admin: agreement figures, a histogram and the annotator table."""
from django.contrib import messages
from django.shortcuts import redirect, render

from . import recompute, selectors


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
        "pending_review": selectors.pending_review_count(project),
        "title": f"Quality of {project}",
    }
    return render(request, "admin/quality/project_quality.html", context)


def histogram_bars(counts: list[int]) -> list[dict]:
    tallest = max(counts, default=0) or 1
    size = 1 / len(counts) if counts else 0
    return [
        {"count": count, "height": round(100 * count / tallest), "range": f"{i * size:.1f}–{(i + 1) * size:.1f}"}
        for i, count in enumerate(counts)
    ]
