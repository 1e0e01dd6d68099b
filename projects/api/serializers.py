"""Input and output shapes of the REST API (Label Studio's task, annotation and prediction formats)."""
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from ..models import Annotation, Prediction, Project, ProjectMember, Role, Task
from projects.models import Job

User = get_user_model()


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "is_staff"]
        read_only_fields = ["is_staff"]


class UserCreateSerializer(serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"})

    class Meta:
        model = User
        fields = ["id", "username", "email", "password", "first_name", "last_name"]

    def validate(self, attrs):
        # The whole would-be user, so the similarity validator can compare the password with its name and email.
        candidate = User(**{name: value for name, value in attrs.items() if name != "password"})
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from None
        return attrs


class OptionalBooleanField(serializers.BooleanField):
    """A boolean that a form or multipart body may leave out. DRF reads a missing checkbox as False, which on a
    create would silently turn `blind` off; here a missing field keeps the model's default."""

    default_empty_html = empty


class OwnCountsMixin:
    """In a blind project an annotator sees only their own annotation counts: the view annotates them as
    `own_annotation_count` (and `own_cancelled_count` for tasks) where they replace the shared counters."""

    own_counts = {"annotation_count": "own_annotation_count"}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for shown, own in self.own_counts.items():
            if hasattr(instance, own) and shown in data:
                data[shown] = getattr(instance, own)
        return data


class ProjectSerializer(OwnCountsMixin, serializers.ModelSerializer):
    """A project's settings and counts. The settings' ranges and the rules between them are the model's
    validators and Project.clean(), checked again by the services for every writer."""

    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping, models.BooleanField: OptionalBooleanField}
    role = serializers.CharField(source="user_role", read_only=True, default=None)

    class Meta:
        model = Project
        fields = [
            "id", "title", "description", "instructions", "label_config", "overlap", "lease_minutes", "queue_order",
            "annotators_can_export", "aggregation_method", "agreement_threshold", "adaptive_overlap", "max_overlap",
            "blind", "show_collab_predictions", "gold_share", "review_sample_rate", "iou_threshold", "box_fusion",
            "created_by", "created_at", "updated_at", "task_count", "finished_task_count", "annotation_count", "role",
        ]
        read_only_fields = ["created_by", "created_at", "updated_at", "task_count", "finished_task_count", "annotation_count"]
        extra_kwargs = {"annotation_count": {"help_text": "Submitted annotations; an annotator of a blind project sees their own."}}


class MemberSerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False)
    username = serializers.SlugRelatedField(source="user", slug_field="username", queryset=User.objects.all(), required=False)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.ANNOTATOR)

    class Meta:
        model = ProjectMember
        fields = ["user", "username", "role", "added_at"]
        read_only_fields = ["added_at"]

    def validate(self, attrs):
        if "user" not in attrs:
            raise serializers.ValidationError({"user": "Name the user by id (user) or by username."})
        return attrs


class PredictionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Prediction
        fields = ["id", "model_version", "score", "result", "created_at"]


class AnnotationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Annotation
        fields = [
            "id", "task", "project", "completed_by", "result", "lead_time", "was_cancelled", "cancel_reason",
            "version", "created_at", "updated_at", "prediction", "prediction_model_version", "prediction_changed",
            "accepted_unchanged",
        ]
        read_only_fields = fields


class AnnotationInputSerializer(serializers.Serializer):
    result = serializers.JSONField(default=list)
    lead_time = serializers.FloatField(required=False, allow_null=True, min_value=0)
    was_cancelled = serializers.BooleanField(default=False)
    cancel_reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    prediction = serializers.PrimaryKeyRelatedField(
        queryset=Prediction.objects.none(), required=False, allow_null=True,
        help_text="The id of the task's prediction the annotator started from, if any.",
        error_messages={"does_not_exist": "Prediction {pk_value} is not a prediction of this task."},
    )

    def __init__(self, *args, task: Task | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if task is not None:
            self.fields["prediction"].queryset = Prediction.objects.filter(task=task)

    def validate_result(self, value):
        if not isinstance(value, list):
            raise serializers.ValidationError("result must be a list of result items")
        return value


class AnnotationPatchSerializer(AnnotationInputSerializer):
    result = serializers.JSONField(required=False)
    was_cancelled = serializers.BooleanField(required=False)
    cancel_reason = serializers.CharField(required=False, allow_blank=True, max_length=500)
    version = serializers.IntegerField(required=False, min_value=1, help_text="The version you edited; 409 if it changed.")


class TaskSerializer(OwnCountsMixin, serializers.ModelSerializer):
    own_counts = {"annotation_count": "own_annotation_count", "cancelled_count": "own_cancelled_count"}

    class Meta:
        model = Task
        fields = ["id", "project", "data", "meta", "is_gold", "annotation_count", "cancelled_count", "is_finished", "created_at", "updated_at"]
        extra_kwargs = {
            "annotation_count": {"help_text": "Submitted annotations; an annotator of a blind project sees only theirs (0 or 1)."},
            "cancelled_count": {"help_text": "Skips; an annotator of a blind project sees only theirs (0 or 1)."},
        }


class TaskPatchSerializer(serializers.Serializer):
    """What a manager may change on a task; any other key is refused, naming it, rather than ignored."""

    data = serializers.DictField(required=False, help_text="The task's data: the fields the label config's objects read.")
    meta = serializers.DictField(required=False)
    is_gold = serializers.BooleanField(required=False, help_text="A gold task's answer is known; annotators are scored on it.")
    gold_result = serializers.JSONField(required=False, allow_null=True, help_text="The known answer (result items).")

    def to_internal_value(self, payload):
        if isinstance(payload, dict):
            unknown = sorted(set(payload) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: [f"is not a task field you may change (send {', '.join(self.fields)})"] for key in unknown}
                )
        return super().to_internal_value(payload)

    def validate_gold_result(self, value):
        if value is not None and not isinstance(value, list):
            raise serializers.ValidationError("gold_result must be a list of result items, or null")
        return value


class ConsensusSerializer(serializers.Serializer):
    result = serializers.JSONField(source="consensus_result")
    agreement = serializers.FloatField(allow_null=True, help_text="0-1; null with fewer than two annotators.")
    method = serializers.CharField(source="consensus_method")
    confidence = serializers.FloatField(source="consensus_confidence", allow_null=True)
    controls = serializers.JSONField(source="consensus_controls", allow_null=True, help_text=(
        "Per control: {agreement, confidence, method} on the control's own scale (Kendall's W for a ranking, "
        "Krippendorff's alpha for ratings); null for a consensus computed before these were kept."))
    computed_at = serializers.DateTimeField(source="consensus_at")


class ReviewSerializer(serializers.Serializer):
    status = serializers.CharField(source="review_status")
    result = serializers.JSONField(source="reviewed_result", allow_null=True)
    reviewed_by = serializers.IntegerField(source="reviewed_by_id", allow_null=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)


class VisibleAnnotationsSerializer(serializers.ListSerializer):
    """The task's annotations the caller may see, read from the context's `work` rather than from the task."""

    def get_attribute(self, instance):
        return self.context["work"].annotations


class SuggestionsSerializer(serializers.ListSerializer):
    """The task's predictions, or none where the project hides them from annotators (blind judging): read from
    the context's `hide_predictions`, so the hidden ones are not even loaded."""

    def get_attribute(self, instance):
        if self.context.get("hide_predictions"):
            return []
        return super().get_attribute(instance)


class TaskDetailSerializer(TaskSerializer):
    """One task with its annotations (those you may see), predictions, consensus and review."""

    # The context's `work` (projects.selectors.VisibleWork) says what the caller may see of the task.
    annotations = VisibleAnnotationsSerializer(child=AnnotationSerializer())
    predictions = SuggestionsSerializer(child=PredictionSerializer(), source="predictions.all")
    consensus = serializers.SerializerMethodField()
    review = serializers.SerializerMethodField()
    presentation = serializers.SerializerMethodField(help_text="How the page shows this task to you (see next/).")

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "annotations", "predictions", "consensus", "review", "presentation"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self._work.sees_others_work:  # counts of their own annotations only: the others' would leak
            data.update(self._work.own_counts())
        return data

    @property
    def _work(self):
        return self.context["work"]

    @extend_schema_field(ConsensusSerializer(allow_null=True))
    def get_consensus(self, task: Task) -> dict | None:
        """Null until the task has one, and for annotators of a blind project (it would show others' work)."""
        if task.consensus_at is None or not self._work.sees_others_work:
            return None
        return ConsensusSerializer(task).data

    @extend_schema_field(ReviewSerializer(allow_null=True))
    def get_review(self, task: Task) -> dict | None:
        if not task.review_status or not self._work.sees_others_work:
            return None
        return ReviewSerializer(task).data

    @extend_schema_field(serializers.DictField(child=serializers.DictField()))
    def get_presentation(self, task: Task) -> dict:
        """As next/ gives it, so an earlier task reopened looks the way it did when it was answered."""
        return self.context.get("presentation", {})


class LeasedTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="task.id")
    project = serializers.IntegerField(source="task.project_id")
    data = serializers.JSONField(source="task.data")
    meta = serializers.JSONField(source="task.meta")
    predictions = SuggestionsSerializer(child=PredictionSerializer(), source="task.predictions.all")
    lease_expires_at = serializers.DateTimeField(source="expires_at")
    presentation = serializers.SerializerMethodField(
        help_text="How the page shows this task to you, per control whose type varies it: "
        '<Pairwise> gives {"swap": true} when its two objects are shown the other way round (the answer still '
        "refers to the task's own order). Empty when no control does.")

    @extend_schema_field(serializers.DictField(child=serializers.DictField()))
    def get_presentation(self, leased) -> dict:
        return self.context.get("presentation", {})


class ReleaseSerializer(serializers.Serializer):
    tasks = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), max_length=100, allow_empty=False)


class HistoryItemSerializer(serializers.Serializer):
    annotation = serializers.IntegerField()
    task = serializers.IntegerField()
    was_cancelled = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class HistorySerializer(serializers.Serializer):
    results = HistoryItemSerializer(many=True)
    next_before = serializers.IntegerField(allow_null=True)


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(help_text="Tasks you submitted.")
    skipped = serializers.IntegerField(help_text="Tasks you skipped.")
    remaining = serializers.IntegerField(help_text="Unfinished tasks you have not annotated or skipped.")


class ImportResultSerializer(serializers.Serializer):
    """The `Location` header names the import's job (GET /api/jobs/{id}/), whose params hold the upload's sha256."""

    task_count = serializers.IntegerField()
    annotation_count = serializers.IntegerField()
    prediction_count = serializers.IntegerField()


class JobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = ["id", "kind", "project", "created_by", "status", "progress", "cancel_requested", "error", "result", "created_at", "started_at", "finished_at", "heartbeat_at", "attempts", "url"]

    def get_progress(self, job: Job) -> dict:
        return {"done": job.progress_done, "total": job.progress_total}

    def get_url(self, job: Job) -> str:
        return f"/api/jobs/{job.pk}/"
