"""Dataset snapshots: an export made once by a job and kept, so a training run can name what it trained on
and download exactly the same bytes again (the sha256 says so)."""
from django.conf import settings
from django.db import models

from projects.models import Job


def snapshot_path(snapshot: "ExportSnapshot", file_name: str) -> str:
    return f"exports/{snapshot.project_id}/{snapshot.pk or 'new'}-{file_name}"


class ExportSnapshot(models.Model):
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="export_snapshots")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=200, help_text="What to call it, e.g. the training run that uses it.")
    export_type = models.CharField(max_length=16, help_text="The format: JSON, JSON_MIN, JSONL, CSV, COCO, YOLO, VOC, CONLL2003.")
    filters = models.JSONField(default=dict, help_text="Which tasks and annotations it holds.")
    counts = models.JSONField(default=dict, blank=True, help_text="Tasks, annotations, boxes, images... it holds.")
    file = models.FileField(upload_to=snapshot_path, max_length=300, blank=True)
    file_name = models.CharField(max_length=200, blank=True, default="", help_text="The download's file name.")
    size = models.PositiveBigIntegerField(null=True, blank=True, help_text="Bytes.")
    sha256 = models.CharField(max_length=64, blank=True, default="")
    job = models.OneToOneField(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="export_snapshot")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "-id"], name="snapshot_project_newest")]

    def __str__(self) -> str:
        return f"{self.name} ({self.export_type})"

    @property
    def is_ready(self) -> bool:
        return bool(self.sha256)

    @property
    def status(self) -> str:
        if self.is_ready:
            return Job.Status.SUCCEEDED
        return self.job.status if self.job_id else Job.Status.FAILED
