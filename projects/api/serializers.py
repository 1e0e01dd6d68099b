"""Input and output shapes of the REST API (Label Studio's task, annotation and prediction formats)."""
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
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


class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.CharField(source="user_role", read_only=True, default=None)

    class Meta:
        model = Project
        fields = [
            "id", "title", "description", "instructions", "label_config", "overlap", "lease_minutes", "queue_order",
            "annotators_can_export", "created_by", "created_at", "updated_at", "task_count", "finished_task_count",
            "annotation_count", "role",
        ]
        read_only_fields = ["created_by", "created_at", "updated_at", "task_count", "finished_task_count", "annotation_count"]
        extra_kwargs = {"overlap": {"min_value": 1, "max_value": 100}, "lease_minutes": {"min_value": 1, "max_value": 24 * 60}}

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


class TaskDetailSerializer(TaskSerializer):
    annotations = AnnotationSerializer(many=True, source="visible_annotations")
    predictions = PredictionSerializer(many=True)

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "annotations", "predictions"]


class ImportResultSerializer(serializers.Serializer):
    task_count = serializers.IntegerField()
    annotation_count = serializers.IntegerField()
    prediction_count = serializers.IntegerField()


class JobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = ["id", "kind", "project", "created_by", "status", "progress", "cancel_requested", "error", "result", "created_at", "started_at", "finished_at", "url"]

    def get_progress(self, job: Job) -> dict:
        return {"done": job.progress_done, "total": job.progress_total}

    def get_url(self, job: Job) -> str:
        return f"/api/jobs/{job.pk}/"
