"""Shapes of the quality endpoints: project agreement, annotator scores, review decisions, the model leaderboard."""
from rest_framework import serializers

from .. import leaderboard, review
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


class LeaderboardParamsSerializer(serializers.Serializer):
    """The GET's query parameters, and the body of the POST that starts a job."""

    bootstrap = serializers.IntegerField(
        required=False, default=100, min_value=0, max_value=1000,
        help_text="Bootstrap rounds for the 95% intervals (0: no intervals).",
    )
    source = serializers.ChoiceField(
        choices=leaderboard.SOURCES, required=False, default=leaderboard.CONSENSUS,
        help_text="consensus: one judgment per task, its reviewed or consensus result; annotations: every submitted annotation.",
    )


class RatingMeanSerializer(serializers.Serializer):
    mean = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class ModelScoreSerializer(serializers.Serializer):
    model = serializers.CharField()
    score = serializers.FloatField(allow_null=True, help_text="Bradley-Terry on the Elo scale, the models' mean at 1000; null without battles.")
    ci_low = serializers.FloatField(allow_null=True, help_text="2.5th percentile of the bootstrap scores; null without rounds.")
    ci_high = serializers.FloatField(allow_null=True, help_text="97.5th percentile of the bootstrap scores.")
    wins = serializers.IntegerField()
    losses = serializers.IntegerField()
    ties = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True, help_text="(wins + ties / 2) / judgments.")
    judgments = serializers.IntegerField(help_text="Battles the score rests on.")
    ratings = serializers.DictField(child=RatingMeanSerializer(), help_text="Per rating control: mean rating, 95% t interval, count.")


class SkippedJudgmentsSerializer(serializers.Serializer):
    unattributed = serializers.IntegerField(help_text="Judgments whose task data names no model for a response.")
    same_model = serializers.IntegerField(help_text="Battles of a model against itself.")


class LeaderboardNotComputedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    url = serializers.CharField(help_text="Where to POST to compute the leaderboard as a job.")
    job = serializers.IntegerField(allow_null=True, help_text="A leaderboard job of this source already queued or running.")


class LeaderboardSerializer(serializers.Serializer):
    computed_at = serializers.DateTimeField(help_text="When the judgments were read: now, or when the snapshot's job began.")
    job = serializers.IntegerField(allow_null=True, help_text="The job that made the snapshot answered; null when computed for this request.")
    annotations_changed = serializers.BooleanField(
        help_text="An annotation was submitted, skipped, edited or deleted since computed_at: POST again for a fresh board.")
    source = serializers.ChoiceField(choices=leaderboard.SOURCES)
    bootstrap = serializers.IntegerField()
    battle_count = serializers.IntegerField()
    rating_count = serializers.IntegerField()
    tasks_read = serializers.IntegerField()
    skipped = SkippedJudgmentsSerializer()
    models = ModelScoreSerializer(many=True, help_text="Best score first; models with ratings only come last.")
    win_rate_matrix = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True)),
        help_text="Row i, column j: model i's win rate against model j (ties half), in the order of `models`; null where they never met.",
    )


class JudgeControlSerializer(serializers.Serializer):
    control = serializers.CharField()
    compared = serializers.IntegerField(help_text="Tasks with both the judge's and a human answer to it.")
    accuracy = serializers.FloatField(help_text="Share of those where the judge gave the human answer.")
    cohen_kappa = serializers.FloatField(allow_null=True, help_text="Agreement beyond chance; null when undefined.")


class JudgeSerializer(serializers.Serializer):
    model_version = serializers.CharField()
    tasks_judged = serializers.IntegerField()
    compared = serializers.IntegerField()
    controls = JudgeControlSerializer(many=True)
    swap_checked = serializers.IntegerField(help_text="Tasks asked in both orders.")
    swap_consistency = serializers.FloatField(
        allow_null=True, help_text="Share of those whose answer did not change with the order (1 = no position bias).")


class FewerHumansSerializer(serializers.Serializer):
    checks_pending = serializers.IntegerField()
    checks_agreed = serializers.IntegerField()
    checks_disagreed = serializers.IntegerField()
    human_judgments_saved = serializers.IntegerField()


class JudgeReportSerializer(serializers.Serializer):
    judges = JudgeSerializer(many=True)
    fewer_humans = FewerHumansSerializer()
