"""Shapes of the quality endpoints: project agreement, annotator scores, review decisions."""
from rest_framework import serializers

from ..consensus import MIN_HISTORY_FOR_WEIGHTS
from ..models import AnnotatorScore


class AnnotatorScoreSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    gold_accuracy = serializers.FloatField(allow_null=True)
    few_tasks = serializers.SerializerMethodField(help_text="Under 20 tasks: treat the estimates as noise.")

    class Meta:
        model = AnnotatorScore
        fields = [
            "user", "username", "tasks_done", "gold_count", "gold_accuracy", "consensus_count", "consensus_agreement",
            "reliability", "median_lead_time", "tasks_per_hour", "few_tasks", "updated_at",
        ]

    def get_few_tasks(self, score: AnnotatorScore) -> bool:
        return score.tasks_done < MIN_HISTORY_FOR_WEIGHTS


class ReviewDecisionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["accept", "edit", "reject"])
    annotation = serializers.IntegerField(required=False, help_text="accept: the annotation to keep; omit to accept the consensus.")
    result = serializers.JSONField(required=False, help_text="edit: the corrected result items.")

    def validate(self, attrs):
        if attrs["action"] == "edit" and not isinstance(attrs.get("result"), list):
            raise serializers.ValidationError({"result": "edit needs the corrected result: a list of result items"})
        return attrs
