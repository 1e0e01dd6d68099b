"""The managers' quality page in the admin: agreement figures, histogram, annotator table, recompute button."""
import pytest

from projects.models import Project
from quality.models import AnnotatorScore
from tests.test_admin import page_text
from projects.models import Job

pytestmark = pytest.mark.django_db

SUMMARY = {
    "computed_at": "2026-11-23T10:00:00+00:00", "method": "dawid_skene", "tasks": 40,
    "overall": {"mean_task_agreement": 0.81, "alpha": 0.642, "kappa": 0.611},
    "per_label": {"Positive": 0.9, "Negative": 0.7}, "histogram": [0, 0, 0, 1, 2, 3, 4, 5, 10, 15],
}


def test_the_quality_page_shows_agreement_and_every_annotators_scores(admin_client, text_project, annotator, other_annotator):
    Project.objects.filter(pk=text_project.pk).update(quality_summary=SUMMARY)
    AnnotatorScore.objects.create(project=text_project, user=annotator, tasks_done=40, gold_count=4, gold_correct=3,
                                  consensus_count=40, consensus_agreement=0.9, reliability=0.88, median_lead_time=6.5, tasks_per_hour=220)
    AnnotatorScore.objects.create(project=text_project, user=other_annotator, tasks_done=5, consensus_count=5, consensus_agreement=0.4)

    text = page_text(admin_client.get(f"/admin/projects/project/{text_project.pk}/quality/"))

    assert "0.642" in text and "0.611" in text and "0.810" in text
    assert "annotator" in text and "0.75 of 4" in text and "0.88" in text and "6.5 s" in text
    assert "other_annotator (few tasks)" in text
    assert "Positive" in text and "0.900" in text
    assert "Computed 23 Nov 2026, 10:00 UTC" in text and "2026-11-23T10:00:00" not in text  # a date, not ISO text


def test_the_recompute_button_starts_a_job(admin_client, text_project):
    response = admin_client.post(f"/admin/projects/project/{text_project.pk}/quality/")

    job = Job.objects.get(project=text_project, kind="consensus")
    assert response.status_code == 302 and response.url.endswith(f"/admin/projects/job/{job.pk}/change/")


def test_a_manager_cannot_open_another_managers_quality_page(admin_client, other_managers_project):
    response = admin_client.get(f"/admin/projects/project/{other_managers_project.pk}/quality/", follow=True)

    assert "No such project among those you manage" in page_text(response)


def test_the_quality_page_says_a_pairwise_controls_ties_and_position_bias_in_words(admin_client, text_project, annotator):
    from controls.pairwise import PairwiseTally, shows_swapped
    from quality.engine import TaskConsensus

    tally = PairwiseTally({"name": "pw", "type": "pairwise"})
    for task_id in range(1, 11):  # always the response shown on the left, and one tie
        selected = "tie" if task_id == 10 else ("right" if shows_swapped(task_id, annotator.pk) else "left")
        tally.add(task_id, [(annotator.pk, [{"value": {"selected": selected}}])], TaskConsensus([], None, 1.0, "majority"))
    Project.objects.filter(pk=text_project.pk).update(quality_summary={**SUMMARY, "controls": {"pw": tally.summary()}})

    text = page_text(admin_client.get(f"/admin/projects/project/{text_project.pk}/quality/"))

    assert "<Pairwise>" in text and "position bias" in text
    assert "chose the response shown on the left in 100% of 9 left-or-right judgments (95% interval 70%–100%)" in text
    assert "tie 1 (ties 10%)" in text
