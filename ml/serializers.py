"""Input and output shapes of the pre-labeling API."""
from rest_framework import serializers

from .models import Engine, ModelVersion, ProjectModel


class ProjectModelSerializer(serializers.ModelSerializer):
    engine = serializers.ChoiceField(choices=Engine.choices)
    active_version = serializers.SlugRelatedField(
        slug_field="version", read_only=True, allow_null=True, help_text="Null until a model version exists."
    )
    timeout = serializers.FloatField(min_value=0.1, max_value=600, required=False)
    min_labels = serializers.IntegerField(min_value=2, max_value=1_000_000, required=False)
    retrain_every = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)

    class Meta:
        model = ProjectModel
        fields = [
            "engine", "control", "url", "timeout", "label_map", "auto_prelabel", "prelabel_after_training", "annotation_events", "min_labels", "retrain_every",
            "llm_model", "api_key_env", "prompt_template", "structured_output", "judge_both_orders", "fewer_humans_confidence",
            "active_version", "new_labels", "training_state", "training_error", "updated_at",
        ]
        read_only_fields = ["active_version", "new_labels", "training_state", "training_error", "updated_at"]

    def validate_label_map(self, value):
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise serializers.ValidationError('label_map must be an object of strings, e.g. {"face": "Face"}')
        return value

    def validate_url(self, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise serializers.ValidationError("url must start with http:// or https://")
        return value


class PredictInputSerializer(serializers.Serializer):
    only_missing = serializers.BooleanField(
        default=False, help_text="Pre-label only the tasks that have no prediction yet."
    )


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["id", "number", "version", "engine", "metrics", "trained_on", "created_at"]


class TrainingSerializer(serializers.Serializer):
    queued = serializers.BooleanField(help_text="False when a training was already queued or running.")
    training_state = serializers.CharField()


class EffortSerializer(serializers.Serializer):
    model_version = serializers.CharField()
    annotations = serializers.IntegerField(help_text="Submitted annotations that started from its predictions.")
    accepted_unchanged = serializers.IntegerField()
    accepted_share = serializers.FloatField(help_text="Share of those submitted exactly as predicted.")
    mean_share_changed = serializers.FloatField(help_text="Mean share of predicted result items changed.")
