"""Jobs: one row per long-running piece of work (import, pre-label, consensus, export).

The row, not Celery's result backend, is the source of truth: it has an owner and a project (so access is
checked like any other object), progress the UI polls, and a cancel flag the worker reads between chunks.
"""
from django.conf import settings
from django.db import models


class Job(models.Model):
    class Kind(models.TextChoices):
        IMPORT = "import", "Import"
        PRELABEL = "prelabel", "Pre-labeling"
        CONSENSUS = "consensus", "Consensus"
        EXPORT = "export", "Export"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    kind = models.CharField(max_length=16, choices=Kind.choices)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The last sign of life: written when a worker claims the job and every few seconds while it runs. A running
    # job whose heartbeat is older than LABELER_JOB_STALL_SECONDS lost its worker; the reconciliation resumes it.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Deliveries that claimed the job; past LABELER_JOB_MAX_ATTEMPTS a stalled job fails instead of resuming.
    attempts = models.PositiveSmallIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["project", "kind", "status"], name="job_project_kind_status"),
            # The reconciliation's scan: only unfinished jobs, a handful among millions of finished ones.
            models.Index(fields=["status", "heartbeat_at"], condition=models.Q(status__in=["queued", "running"]),
                         name="job_unfinished"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} job {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class ConsensusDue(models.Model):
    """A task whose consensus must be recomputed: written in the transaction that changed its annotations,
    deleted by the consensus worker once it has computed from that change. A transactional outbox: a message the
    broker lost (or never got) leaves its row behind, and the reconciliation sends it again."""

    task = models.OneToOneField("projects.Task", on_delete=models.CASCADE, primary_key=True, related_name="+")
    # A fresh value per change: the worker deletes the row only if no change arrived while it computed.
    change = models.UUIDField()
    changed_at = models.DateTimeField()
    # When a message for it was last handed to the broker; None when that failed (the broker was down).
    queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["queued_at"], name="consensus_due_queued")]

    def __str__(self) -> str:
        return f"consensus of task {self.task_id} due since {self.changed_at}"
