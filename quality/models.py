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


class LeaderboardSnapshot(models.Model):
    """A project's model leaderboard as a job computed it (quality.leaderboard_jobs), answered by the API for
    projects too big to score while the caller waits. The newest per project and source is kept."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="leaderboard_snapshots", db_index=False)
    source = models.CharField(max_length=16)
    bootstrap_rounds = models.PositiveSmallIntegerField()
    computed_at = models.DateTimeField(help_text="When the job began reading: the board holds the judgments made before.")
    board = models.JSONField(help_text="The leaderboard as GET /api/projects/{id}/leaderboard/ answers it.")
    job = models.OneToOneField("projects.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The project's annotations when the read began; a GET compares them to tell whether the board is behind.
    annotation_count = models.PositiveIntegerField(default=0)
    last_annotation_id = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["project", "source", "-computed_at"], name="leaderboard_newest")]

    def __str__(self) -> str:
        return f"Leaderboard of {self.project} ({self.source}, {self.computed_at:%Y-%m-%d %H:%M})"
