"""Shapes of the quality endpoints: project agreement, annotator scores, review decisions."""
from rest_framework import serializers

from .. import review
from ..models import AnnotatorScore


class AnnotatorScoreSerializer(serializers.ModelSerializer):
    # Serializes quality.selectors.annotator_scores, which annotates `few_tasks`.
    username = serializers.CharField(source="user.username")
    gold_accuracy = serializers.FloatField(allow_null=True)
    few_tasks = serializers.BooleanField(read_only=True, help_text="Under 20 tasks: treat the estimates as noise.")

    class Meta:
        model = AnnotatorScore
        fields = [
            "user", "username", "tasks_done", "gold_count", "gold_accuracy", "consensus_count", "consensus_agreement",
            "reliability", "median_lead_time", "tasks_per_hour", "few_tasks", "updated_at",
        ]


class ReviewDecisionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=review.ACTIONS)
    annotation = serializers.IntegerField(required=False, help_text="accept: the annotation to keep; omit to accept the consensus.")
    result = serializers.JSONField(required=False, help_text="edit: the corrected result items.")

    def validate(self, attrs):
        if attrs["action"] == review.EDIT and not isinstance(attrs.get("result"), list):
            raise serializers.ValidationError({"result": "edit needs the corrected result: a list of result items"})
        return attrs
