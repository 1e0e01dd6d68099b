"""Export parameters (query string or body) and snapshots, as the REST API reads and shows them."""
from collections.abc import Mapping

from django.contrib.auth import get_user_model
from rest_framework import serializers

from projects.api.pagination import is_whole_number
from projects.api.serializers import JobSerializer
from projects.models import ProjectMember

from ..engine import FORMATS, ExportError
from ..engine.genai import ALL_PAIRS, RANKING_PAIRS
from ..models import ExportSnapshot
from ..services import check_export
from ..selection import ANNOTATION_MODES, EVERY, FINAL, LABELED, TASK_SCOPES, ExportFilters

User = get_user_model()
FORMAT_NAMES = ", ".join(FORMATS)


class ExportParamsSerializer(serializers.Serializer):
    """Which format, and which tasks and annotations; the project being exported is in the context, and the
    format must fit its label config."""

    # Label Studio's own clients send these; `format` is DRF's renderer switch.
    TOLERATED = {"format", "download_all_tasks"}

    exportType = serializers.ChoiceField(
        choices=list(FORMATS), help_text=f"The format: {FORMAT_NAMES}.",
        error_messages={
            "required": f"Name the format with exportType: one of {FORMAT_NAMES}.",
            "invalid_choice": f'"{{input}}" is not an export format; use one of {FORMAT_NAMES}.',
        },
    )
    annotations = serializers.ChoiceField(
        choices=ANNOTATION_MODES, default=FINAL,
        help_text="final (default): each task's reviewed result, else its consensus result, else all its annotations; "
        "all: every annotation; consensus: consensus results only; reviewed: reviewed results only.",
    )
    tasks = serializers.ChoiceField(
        choices=TASK_SCOPES, default=LABELED,
        help_text="labeled (default): tasks with something to export; finished: only finished tasks; all: every task "
        "(JSON, JSONL, JSON_MIN and CSV then list unlabeled tasks too).",
    )
    min_agreement = serializers.FloatField(
        required=False, min_value=0, max_value=1, help_text="Only tasks whose annotators agree at least this much (0..1)."
    )
    annotator = serializers.CharField(
        required=False, help_text="A project member's user id or username: only tasks they annotated, and of "
        "annotations only theirs.",
    )
    annotated_after = serializers.DateTimeField(required=False, help_text="Only annotations made at or after this (ISO 8601 date or time).")
    annotated_before = serializers.DateTimeField(required=False, help_text="Only annotations made before this (ISO 8601 date or time).")
    csv_safe = serializers.BooleanField(
        default=True, help_text="CSV only. true (default): a text cell starting with = + - @ TAB or CR gets a leading "
        "single quote, so a spreadsheet shows it instead of running it as a formula; numbers stay numbers. "
        "false: every cell verbatim.",
    )

    ranking_pairs = serializers.ChoiceField(
        choices=RANKING_PAIRS, default=ALL_PAIRS, help_text="PREFERENCE_JSONL only. all (default): every pair a "
        "ranking (or a rating dimension) implies; best_worst: only its best response against its worst.",
    )

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # DRF's "expected a dictionary" 400
        data = {name: value for name, value in data.items()}
        unknown = sorted(set(data) - set(self.fields) - self.TOLERATED)
        if unknown:
            raise serializers.ValidationError({unknown[0]: [f"unknown parameter; the export takes {', '.join(self.fields)}."]})
        if isinstance(data.get("exportType"), str):
            data["exportType"] = data["exportType"].upper()
        if str(data.get("download_all_tasks", "")).lower() == "true" and "tasks" not in data:
            data["tasks"] = EVERY
        return super().to_internal_value(data)

    def validate_annotator(self, value: str) -> int:
        members = ProjectMember.objects.filter(project=self.context["project"])
        member = members.filter(user_id=int(value)) if is_whole_number(value) else members.filter(user__username=value)
        user_id = member.values_list("user_id", flat=True).first()
        if user_id is None:
            raise serializers.ValidationError(f"no member of project {self.context['project'].pk} has the id or username {value!r}.")
        return user_id

    def validate(self, attrs):
        after, before = attrs.get("annotated_after"), attrs.get("annotated_before")
        if after and before and after >= before:
            raise serializers.ValidationError({"annotated_before": ["must be later than annotated_after."]})
        try:
            check_export(self.context["project"], attrs["exportType"])
        except ExportError as exc:
            raise serializers.ValidationError({"exportType": [str(exc)]}) from None
        return attrs

    @property
    def export_type(self) -> str:
        return self.validated_data["exportType"]

    @property
    def writer_options(self) -> dict:
        """How the format is written (exports.services.WRITER_OPTIONS), as opposed to what it holds."""
        return {"csv_safe": self.validated_data["csv_safe"], "ranking_pairs": self.validated_data["ranking_pairs"]}

    @property
    def filters(self) -> ExportFilters:
        values = {name: value for name, value in self.validated_data.items() if name in ExportFilters.__dataclass_fields__}
        return ExportFilters(**values)


class SnapshotCreateSerializer(ExportParamsSerializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="What to call the snapshot.")


class SnapshotSerializer(serializers.ModelSerializer):
    exportType = serializers.CharField(source="export_type")
    status = serializers.CharField(help_text="queued, running, succeeded, failed or cancelled: its job's status.")
    job = JobSerializer(allow_null=True)
    url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportSnapshot
        fields = [
            "id", "project", "name", "exportType", "filters", "status", "counts", "file_name", "size", "sha256",
            "created_by", "created_at", "finished_at", "job", "url", "download_url",
        ]

    def get_url(self, snapshot: ExportSnapshot) -> str:
        return f"/api/exports/{snapshot.pk}/"

    def get_download_url(self, snapshot: ExportSnapshot) -> str | None:
        return f"/api/exports/{snapshot.pk}/download" if snapshot.is_ready else None
