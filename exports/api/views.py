"""Export endpoints: a direct download for small exports, snapshots made by a job for large or kept ones."""
from django.conf import settings
from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.api.errors import job_start_status

from .. import services
from ..access import get_project_for_export, get_snapshot_for
from ..engine import FORMATS
from ..models import ExportSnapshot
from ..selection import count_selected
from . import serializers as s

DETAIL = OpenApiResponse(description="What is wrong, in `detail` or per parameter.")
JSON_EXPORT = {"type": "array", "items": {"type": "object", "additionalProperties": True}}


def export_file_responses(description: str) -> dict:
    """A 200 per media type the formats answer with (JSON a list of tasks; zip, CSV, text and JSON Lines as files)."""
    formats_by_media_type: dict[str, list[str]] = {}
    for spec in FORMATS.values():
        formats_by_media_type.setdefault(spec.content_type.split(";")[0], []).append(spec.name)
    which = "; ".join(f"{media_type} for {', '.join(names)}" for media_type, names in formats_by_media_type.items())
    return {
        (200, media_type): OpenApiResponse(
            JSON_EXPORT if media_type == "application/json" else OpenApiTypes.BINARY, description=f"{description} {which}."
        )
        for media_type in formats_by_media_type
    }


def _checked_params(serializer_class, data, project) -> s.ExportParamsSerializer:
    params = serializer_class(data=data, context={"project": project})
    params.is_valid(raise_exception=True)
    return params


class ProjectExportView(APIView):
    @extend_schema(
        parameters=[s.ExportParamsSerializer],
        responses={
            **export_file_responses("The export file, streamed, in the format's media type:"),
            400: DETAIL, 403: DETAIL, 404: DETAIL,
            413: OpenApiResponse(description="Too many tasks for a direct download: POST /api/projects/{id}/exports/ instead."),
        },
        description="Download the project's dataset in one format, streamed as it is read. Selections of more than "
        "LABELER_EXPORT_SYNC_MAX_TASKS tasks answer 413: make them as a snapshot with POST /api/projects/{id}/exports/.",
    )
    def get(self, request, pk: int):
        project = get_project_for_export(request.user, pk)
        params = _checked_params(s.ExportParamsSerializer, request.query_params, project)
        total = count_selected(project, params.filters)
        limit = settings.LABELER_EXPORT_SYNC_MAX_TASKS
        if total > limit:
            detail = (
                f"This export holds {total} tasks, more than the {limit} a direct download serves: "
                f"POST /api/projects/{project.pk}/exports/ with the same parameters to make it as a job, then download it."
            )
            return Response({"detail": detail, "task_count": total, "limit": limit}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        response = streamed_export(project, params.export_type, params.filters, **params.writer_options)
        response["X-Task-Count"] = str(total)
        return response


def streamed_export(project, export_type: str, filters, **writer_options) -> StreamingHttpResponse:
    """The export as a download, written while it is read."""
    spec = FORMATS[export_type]
    pieces = services.stream_export(project, export_type, filters, **writer_options)
    response = StreamingHttpResponse(pieces, content_type=spec.content_type)
    response["Content-Disposition"] = f'attachment; filename="{services.export_file_name(project, export_type)}"'
    return response


class ProjectSnapshotListView(generics.ListAPIView):
    serializer_class = s.SnapshotSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ExportSnapshot.objects.none()
        project = get_project_for_export(self.request.user, self.kwargs["pk"])
        return ExportSnapshot.objects.filter(project=project).select_related("job").order_by("-id")

    @extend_schema(
        request=s.SnapshotCreateSerializer,
        responses={202: s.SnapshotSerializer, 400: DETAIL, 403: DETAIL, 404: DETAIL, 503: s.SnapshotSerializer},
        description="Make an export as a job and keep it as a snapshot (any size). Answers 202 with the snapshot and "
        "its job; poll GET /api/exports/{id}/ and download from its download_url once it has succeeded.",
    )
    def post(self, request, pk: int):
        project = get_project_for_export(request.user, pk)
        params = _checked_params(s.SnapshotCreateSerializer, request.data, project)
        snapshot = services.start_snapshot(
            project=project, user=request.user, export_type=params.export_type, filters=params.filters,
            name=params.validated_data.get("name", ""), **params.writer_options,
        )
        answer = job_start_status(snapshot.job)
        return Response(s.SnapshotSerializer(snapshot).data, status=answer, headers={"Location": f"/api/exports/{snapshot.pk}/"})


class SnapshotDetailView(generics.RetrieveAPIView):
    serializer_class = s.SnapshotSerializer

    def get_object(self):
        return get_snapshot_for(self.request.user, self.kwargs["pk"])


class SnapshotDownloadView(APIView):
    @extend_schema(
        responses={
            **export_file_responses("The snapshot's bytes, the same every time, in its format's media type:"),
            404: DETAIL, 409: OpenApiResponse(description="Not ready: the job is still running, failed or was cancelled."),
        },
    )
    def get(self, request, pk: int):
        snapshot = get_snapshot_for(request.user, pk)
        if not snapshot.is_ready:
            detail = f"Export {snapshot.pk} is not ready: its job is {snapshot.status}."
            if snapshot.job and snapshot.job.error:
                detail += f" ({snapshot.job.error})"
            return Response({"detail": detail, "status": snapshot.status}, status=status.HTTP_409_CONFLICT)
        response = FileResponse(
            snapshot.file.open("rb"), as_attachment=True, filename=snapshot.file_name,
            content_type=FORMATS[snapshot.export_type].content_type,
        )
        response["ETag"] = f'"{snapshot.sha256}"'
        response["X-Checksum-SHA256"] = snapshot.sha256
        return response
