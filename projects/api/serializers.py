"""Input and output shapes of the REST API (Label Studio's task, annotation and prediction formats)."""
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..label_config import LabelConfigError, parse_label_config
from ..models import Annotation, Prediction, Project, ProjectMember, Role, Task
from workers.models import Job

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

    def validate_password(self, value: str) -> str:
        validate_password(value)
        return value


SHARES = ("agreement_threshold", "gold_share", "review_sample_rate", "iou_threshold")


class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.CharField(source="user_role", read_only=True, default=None)

    class Meta:
        model = Project
        fields = [
            "id", "title", "description", "instructions", "label_config", "overlap", "lease_minutes", "queue_order",
            "annotators_can_export", "aggregation_method", "agreement_threshold", "adaptive_overlap", "max_overlap",
            "blind", "gold_share", "review_sample_rate", "iou_threshold", "box_fusion",
            "created_by", "created_at", "updated_at", "task_count", "finished_task_count", "annotation_count", "role",
        ]
        read_only_fields = ["created_by", "created_at", "updated_at", "task_count", "finished_task_count", "annotation_count"]
        extra_kwargs = {
            "overlap": {"min_value": 1, "max_value": 100},
            "max_overlap": {"min_value": 1, "max_value": 100},
            "lease_minutes": {"min_value": 1, "max_value": 24 * 60},
            **{share: {"min_value": 0.0, "max_value": 1.0} for share in SHARES},
        }

    def validate(self, attrs):
        overlap = attrs.get("overlap", getattr(self.instance, "overlap", 1))
        max_overlap = attrs.get("max_overlap", getattr(self.instance, "max_overlap", 5))
        if attrs.get("adaptive_overlap", getattr(self.instance, "adaptive_overlap", False)) and max_overlap < overlap:
            raise serializers.ValidationError({"max_overlap": f"must be at least overlap ({overlap}) for adaptive overlap"})
        return attrs

    def validate_label_config(self, value: str) -> str:
        try:
            parse_label_config(value)
        except LabelConfigError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value


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


class TaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = Task
        fields = ["id", "project", "data", "meta", "is_gold", "annotation_count", "cancelled_count", "is_finished", "created_at", "updated_at"]


class ConsensusSerializer(serializers.Serializer):
    result = serializers.JSONField(source="consensus_result")
    agreement = serializers.FloatField(allow_null=True, help_text="0-1; null with fewer than two annotators.")
    method = serializers.CharField(source="consensus_method")
    confidence = serializers.FloatField(source="consensus_confidence", allow_null=True)
    computed_at = serializers.DateTimeField(source="consensus_at")


class ReviewSerializer(serializers.Serializer):
    status = serializers.CharField(source="review_status")
    result = serializers.JSONField(source="reviewed_result", allow_null=True)
    reviewed_by = serializers.IntegerField(source="reviewed_by_id", allow_null=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)


class TaskDetailSerializer(TaskSerializer):
    annotations = AnnotationSerializer(many=True, source="visible_annotations")
    predictions = PredictionSerializer(many=True)
    consensus = serializers.SerializerMethodField()
    review = serializers.SerializerMethodField()

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "annotations", "predictions", "consensus", "review"]

    @extend_schema_field(ConsensusSerializer(allow_null=True))
    def get_consensus(self, task: Task) -> dict | None:
        """Null until the task has one, and for annotators of a blind project (it would show others' work)."""
        if task.consensus_at is None or not getattr(task, "sees_others_work", False):
            return None
        return ConsensusSerializer(task).data

    @extend_schema_field(ReviewSerializer(allow_null=True))
    def get_review(self, task: Task) -> dict | None:
        if not task.review_status or not getattr(task, "sees_others_work", False):
            return None
        return ReviewSerializer(task).data


class LeasedTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="task.id")
    project = serializers.IntegerField(source="task.project_id")
    data = serializers.JSONField(source="task.data")
    meta = serializers.JSONField(source="task.meta")
    predictions = PredictionSerializer(many=True, source="task.predictions.all")
    lease_expires_at = serializers.DateTimeField(source="expires_at")


class ReleaseSerializer(serializers.Serializer):
    tasks = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=100, allow_empty=False)


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
