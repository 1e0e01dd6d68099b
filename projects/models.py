"""Projects, their members, tasks, annotations and predictions.

Project counters (tasks, finished tasks, annotations) are kept on the project row and moved with F() updates in
the same transaction as the change, so listing projects never counts a million-row table.
"""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from .label_config import LabelConfigError, parse_label_config, response_models

MAX_OVERLAP = 100
MAX_LEASE_MINUTES = 24 * 60
# A share or a threshold: a fraction from 0 to 1.
FRACTION = [MinValueValidator(0.0), MaxValueValidator(1.0)]
ANNOTATORS_PER_TASK = [MinValueValidator(1), MaxValueValidator(MAX_OVERLAP)]


def validate_label_config(value: str) -> None:
    try:
        parse_label_config(value)
    except LabelConfigError as exc:
        raise ValidationError(str(exc), code="label_config") from None


class QueueOrder(models.TextChoices):
    TASK_ORDER = "task_order", "Task order"
    UNCERTAINTY = "uncertainty", "Least confident prediction first"


class AggregationMethod(models.TextChoices):
    AUTO = "auto", "Dawid-Skene once annotators have history, else majority vote"
    MAJORITY = "majority", "Majority vote"
    DAWID_SKENE = "dawid_skene", "Dawid-Skene"


class BoxFusion(models.TextChoices):
    MEDIAN = "median", "Median of each edge"
    MEAN = "mean", "Mean of each edge"


class Project(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    instructions = models.TextField(blank=True, default="", help_text="Shown to annotators before they start.")
    # Help texts are plain text: the admin renders them as HTML, so a tag named here would become markup.
    label_config = models.TextField(
        validators=[validate_label_config],
        help_text="Label Studio XML: a View holding Image or Text objects and Choices, Labels, RectangleLabels or "
        "TextArea controls.",
    )
    overlap = models.PositiveSmallIntegerField(
        default=1, validators=ANNOTATORS_PER_TASK, help_text=f"How many annotators label each task (1-{MAX_OVERLAP})."
    )
    lease_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(MAX_LEASE_MINUTES)],
        help_text=f"How long a task handed to an annotator stays theirs before it returns to the pool (1-{MAX_LEASE_MINUTES}).",
    )
    queue_order = models.CharField(
        max_length=16, choices=QueueOrder.choices, default=QueueOrder.TASK_ORDER,
        help_text="Order in which the queue hands out tasks (after fewer concurrent holders first).",
    )
    annotators_can_export = models.BooleanField(default=False, help_text="Let annotators download exports too.")

    # Consensus QA (the quality app computes; these are the manager's settings).
    aggregation_method = models.CharField(max_length=16, choices=AggregationMethod.choices, default=AggregationMethod.AUTO)
    agreement_threshold = models.FloatField(
        default=0.6, validators=FRACTION,
        help_text="Tasks whose agreement falls below this (0-1) get another annotator (adaptive) or a review.",
    )
    adaptive_overlap = models.BooleanField(
        default=False, help_text="Start with `overlap` annotators; add one while agreement is below the threshold."
    )
    max_overlap = models.PositiveSmallIntegerField(
        default=5, validators=ANNOTATORS_PER_TASK,
        help_text="Adaptive overlap never asks for more annotators than this (at least overlap).",
    )
    blind = models.BooleanField(default=True, help_text="Annotators never see each other's annotations or counts.")
    # Label Studio's name for it. Off for blind judging: a person who sees an LLM judge's answer is no longer an
    # independent check of it.
    show_collab_predictions = models.BooleanField(
        "show predictions to annotators", default=True,
        help_text="Annotators start from the model's predictions. Off: they never see them (blind judging).",
    )
    gold_share = models.FloatField(default=0.0, validators=FRACTION, help_text="Share of queue hand-outs that are gold tasks (0-1).")
    review_sample_rate = models.FloatField(
        default=0.0, validators=FRACTION, help_text="Share of agreed tasks sent to review anyway (0-1)."
    )
    iou_threshold = models.FloatField(
        "IoU threshold", default=0.5, validators=FRACTION, help_text="Boxes overlapping at least this much (0-1) are the same object."
    )
    box_fusion = models.CharField(max_length=8, choices=BoxFusion.choices, default=BoxFusion.MEDIAN)
    quality_summary = models.JSONField(default=dict, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    task_count = models.PositiveIntegerField(default=0, editable=False)
    finished_task_count = models.PositiveIntegerField(default=0, editable=False)
    annotation_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        """Rules between settings; each field's own range is in its validators."""
        if self.adaptive_overlap and self.max_overlap is not None and self.overlap is not None and self.max_overlap < self.overlap:
            raise ValidationError(
                {"max_overlap": f"must be at least overlap ({self.overlap}) when adaptive overlap is on"}, code="max_overlap"
            )


class ReviewStatus(models.TextChoices):
    NONE = "", "Not for review"
    PENDING = "pending", "Waiting for review"
    ACCEPTED = "accepted", "Accepted"
    EDITED = "edited", "Edited by the reviewer"
    REJECTED = "rejected", "Rejected back to the pool"


class JudgeCheck(models.TextChoices):
    NONE = "", "No judge shortcut"
    PENDING = "pending", "Judge confident; waiting for one human check"
    AGREED = "agreed", "The human check agreed with the judge"
    DISAGREED = "disagreed", "The human check disagreed; back to the full overlap"


class Role(models.TextChoices):
    MANAGER = "manager", "Manager"
    ANNOTATOR = "annotator", "Annotator"
    REVIEWER = "reviewer", "Reviewer"


class ProjectMember(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="members", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANNOTATOR)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user")]
        indexes = [models.Index(fields=["user", "project"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.project}"


class Task(models.Model):
    # Composite indexes below start with project, so the foreign key needs no index of its own.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks", db_index=False)
    data = models.JSONField()
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    is_gold = models.BooleanField(default=False)
    gold_result = models.JSONField(null=True, blank=True, help_text="The known answer of a gold task (result items).")
    # Moved by the annotation services; a task is finished once it has `overlap` submitted annotations.
    annotation_count = models.PositiveIntegerField(default=0)
    cancelled_count = models.PositiveIntegerField(default=0)
    is_finished = models.BooleanField(default=False)
    # Unexpired leases (annotators holding the task now); moved by the queue in the lease's transaction.
    reserved_count = models.PositiveIntegerField(default=0, db_default=0)
    # What in `data` can name the models that wrote its responses (label_config.response_models), a few dozen
    # bytes the leaderboard reads instead of decompressing the whole data; kept in step by Task.save and the bulk
    # insert. Null for tasks stored before it existed: those are read from `data`.
    response_models = models.JSONField(null=True, blank=True, editable=False)
    # 1 - confidence of the task's latest prediction (0 while none is known); the active-learning queue order.
    uncertainty = models.FloatField(default=0.0, db_default=0.0)

    consensus_result = models.JSONField(null=True, blank=True, help_text="Result items merged from the annotations.")
    agreement = models.FloatField(null=True, blank=True, help_text="Agreement between the task's annotators, 0..1.")
    consensus_method = models.CharField(max_length=32, blank=True, default="", db_default="")
    consensus_confidence = models.FloatField(null=True, blank=True)
    # Per control: {"agreement", "confidence", "method"} on the control's own scale (Kendall's W for a ranking,
    # alpha for ratings), what an export line derived from one control (a preference pair) reports.
    consensus_controls = models.JSONField(null=True, blank=True)
    consensus_at = models.DateTimeField(null=True, blank=True)
    # Annotators asked for beyond the project's overlap (adaptive overlap, or a reviewer's rejection); negative
    # when fewer are needed (an LLM judge was confident, so one human check stands for the whole overlap).
    extra_annotations = models.SmallIntegerField(default=0, db_default=0)
    # Where a confident LLM judge stands in for humans: "pending" until one human checks it, then the outcome.
    judge_check = models.CharField(max_length=16, choices=JudgeCheck.choices, blank=True, default="", db_default="")
    review_status = models.CharField(max_length=16, choices=ReviewStatus.choices, blank=True, default="", db_default="")
    reviewed_result = models.JSONField(null=True, blank=True, help_text="The reviewer's final result, when reviewed.")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # The reviewer a pending task is handed to, until when; moved by quality.review's conditional UPDATE.
    review_leased_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    review_lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["project", "id"], name="task_project_id"),
            models.Index(fields=["project", "is_finished", "id"], name="task_project_finished"),
            # The queue walks these in order and stops at the first task the annotator may take.
            models.Index(fields=["project", "is_finished", "reserved_count", "id"], name="task_queue"),
            models.Index(
                F("project"), F("is_finished"), F("reserved_count"), F("uncertainty").desc(), F("id"),
                name="task_queue_uncertainty",
            ),
            models.Index(fields=["project", "id"], condition=Q(is_gold=True), name="task_gold"),
            models.Index(fields=["project", "id"], condition=Q(review_status="pending"), name="task_review_pending"),
        ]

    def __str__(self) -> str:
        return f"Task {self.pk}"

    def save(self, *args, update_fields=None, **kwargs):
        if update_fields is None or "data" in update_fields:
            self.response_models = response_models(self.data)
            update_fields = None if update_fields is None else [*update_fields, "response_models"]
        super().save(*args, update_fields=update_fields, **kwargs)


class TaskLease(models.Model):
    """A task handed to an annotator by the queue; it returns to the pool when it expires or they submit."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="leases", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="task_leases", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "user"], name="one_lease_per_annotator")]
        indexes = [
            models.Index(fields=["project", "expires_at"], name="lease_project_expiry"),
            models.Index(fields=["user", "project", "expires_at"], name="lease_user_project"),
        ]

    def __str__(self) -> str:
        return f"Task {self.task_id} held by {self.user_id} until {self.expires_at:%H:%M}"


class Annotation(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="annotations", db_index=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    # Null for annotations imported from another tool, whose authors are not users here.
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="annotations"
    )
    result = models.JSONField(default=list)
    lead_time = models.FloatField(null=True, blank=True, help_text="Seconds the annotator spent on the task.")
    was_cancelled = models.BooleanField(default=False, help_text="Skipped by the annotator.")
    cancel_reason = models.CharField(max_length=500, blank=True, default="")
    version = models.PositiveIntegerField(default=1, help_text="Incremented on every change; stale edits get 409.")
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)
    # Provenance: the prediction the annotator started from, and how much of it they changed (effort saved).
    prediction = models.ForeignKey(
        "Prediction", null=True, blank=True, on_delete=models.SET_NULL, related_name="annotations",
        help_text="The prediction the annotator started from.",
    )
    prediction_model_version = models.CharField(
        max_length=200, blank=True, default="", db_default="", help_text="Its model version, kept if the prediction goes."
    )
    prediction_changed = models.FloatField(
        null=True, blank=True, help_text="Share of the prediction's result items the annotator changed, 0..1."
    )
    accepted_unchanged = models.BooleanField(null=True, blank=True, help_text="Submitted exactly as predicted.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # One annotation per annotator per task: a double submit or a second tab cannot add another.
            models.UniqueConstraint(fields=["task", "completed_by"], name="one_annotation_per_annotator"),
            models.UniqueConstraint(
                fields=["completed_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="unique_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "id"], name="annotation_project_id"),
            # Also the annotator's history, newest first (completed_by, project, id DESC).
            models.Index(fields=["completed_by", "project", "id"], name="annotation_author_history"),
        ]

    def __str__(self) -> str:
        return f"Annotation {self.pk} on task {self.task_id}"


class Prediction(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="predictions")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    model_version = models.CharField(max_length=200, blank=True, default="")
    score = models.FloatField(null=True, blank=True)
    result = models.JSONField(default=list)
    # What the model said beside its result, e.g. an LLM judge's answer in each presentation order.
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "model_version"], name="prediction_project_version")]

    def __str__(self) -> str:
        return f"Prediction {self.pk} ({self.model_version})"


# Jobs: one row per long-running piece of work (import, pre-label, consensus, export). The row, not Celery's
# result backend, is the source of truth: it has an owner and a project (so access is checked like any other
# object), progress the UI polls, and a cancel flag the worker reads between chunks. The core owns the row, which
# every domain writes; workers/ owns its lifecycle (claim, heartbeat, stall detection).
class Job(models.Model):
    class Kind(models.TextChoices):
        IMPORT = "import", "Import"
        PRELABEL = "prelabel", "Pre-labeling"
        CONSENSUS = "consensus", "Consensus"
        EXPORT = "export", "Export"
        LEADERBOARD = "leaderboard", "Leaderboard"

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
        db_table = "workers_job"  # the table predates the model's move into the core
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
