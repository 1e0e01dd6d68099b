"""What the consensus workers learn about each annotator in a project."""
from django.conf import settings
from django.db import models

from projects.models import Project


class AnnotatorScore(models.Model):
    """One annotator's quality in one project, rewritten whole by each project recompute."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="annotator_scores", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tasks_done = models.PositiveIntegerField(default=0)
    gold_count = models.PositiveIntegerField(default=0)
    gold_correct = models.PositiveIntegerField(default=0)
    consensus_count = models.PositiveIntegerField(default=0, help_text="Their annotations on tasks with a consensus.")
    consensus_agreement = models.FloatField(null=True, blank=True, help_text="Share of those matching the consensus.")
    reliability = models.FloatField(null=True, blank=True, help_text="Dawid-Skene estimate of how often they are right.")
    median_lead_time = models.FloatField(null=True, blank=True)
    tasks_per_hour = models.FloatField(null=True, blank=True, help_text="Tasks per hour of active work (sessions).")
    # {control name: confusion matrix (rows = true class, columns = given label)} from the last Dawid-Skene fit;
    # a per-task recompute after a submission weighs this annotator's vote with it without refitting.
    confusion = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="one_score_per_annotator")]

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_correct / self.gold_count if self.gold_count else None

    def __str__(self) -> str:
        return f"{self.user} in {self.project}"
