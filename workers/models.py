"""The background side's own bookkeeping: what is due to run after what (the consensus outbox)."""
from django.db import models


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
