"""REST endpoints. Each view parses and authorises, calls one service, and shapes the answer."""
import django_filters
from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission, IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from workers import jobs
from workers.models import Job

from .. import access, queue, services, task_import
from ..access import MANAGE
from ..models import Annotation, Project, ProjectMember, Role, Task
from . import serializers as s

User = get_user_model()


class TokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=AuthTokenSerializer, responses=inline_serializer("Token", {"token": serializers.CharField()}))
    def post(self, request):
        credentials = AuthTokenSerializer(data=request.data, context={"request": request})
        credentials.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=credentials.validated_data["user"])
        return Response({"token": token.key})


class UserListView(generics.ListCreateAPIView):
    permission_classes = [IsAdminUser]
    queryset = User.objects.order_by("id")

    def get_serializer_class(self):
        return s.UserCreateSerializer if self.request.method == "POST" else s.UserSerializer

    def perform_create(self, serializer):
        password = serializer.validated_data.pop("password")
        user = serializer.save()
        user.set_password(password)
        user.save(update_fields=["password"])


class MayCreateProjects(BasePermission):
    """Anyone signed in lists their projects; only staff or holders of projects.add_project create one."""

    message = "Only staff or users allowed to add projects may create one."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return request.user.is_staff or request.user.has_perm("projects.add_project")


class ProjectListView(generics.ListCreateAPIView):
    serializer_class = s.ProjectSerializer
    permission_classes = [IsAuthenticated, MayCreateProjects]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Project.objects.none()
        return access.with_visible_annotation_counts(access.projects_with_role(self.request.user), self.request.user).order_by("-id")

    def perform_create(self, serializer):
        project = services.create_project(creator=self.request.user, **serializer.validated_data)
        project.user_role = Role.MANAGER
        serializer.instance = project


class ProjectDetailView(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = s.ProjectSerializer

    def get_object(self):
        roles = None if self.request.method == "GET" else MANAGE
        project = access.get_project_for(self.request.user, self.kwargs["pk"], roles=roles)
        if not access.sees_others_work(self.request.user, project):
            project.own_annotation_count = access.own_annotation_count(self.request.user, project)
        return project

    def perform_update(self, serializer):
        updated = services.update_project(project=serializer.instance, changes=serializer.validated_data)
        updated.user_role = serializer.instance.user_role
        serializer.instance = updated


class MemberListView(generics.ListCreateAPIView):
    serializer_class = s.MemberSerializer
    pagination_class = None

    def get_project(self):
        return access.get_project_for(self.request.user, self.kwargs["pk"], roles=MANAGE)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProjectMember.objects.none()
        return ProjectMember.objects.filter(project=self.get_project()).select_related("user").order_by("id")

    def perform_create(self, serializer):
        serializer.instance = services.add_member(project=self.get_project(), **serializer.validated_data)


class MemberDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk: int, user_id: int):
        project = access.get_project_for(request.user, pk, roles=MANAGE)
        if not services.remove_member(project=project, user=User(pk=user_id)):
            return Response({"detail": f"User {user_id} is not a member of project {pk}."}, status=404)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImportView(APIView):
    @extend_schema(
        request={
            "application/json": {"type": "array", "items": {"type": "object"}},
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
        },
        responses={201: s.ImportResultSerializer, 202: s.JobSerializer},
        description="Import tasks (Label Studio format) from a JSON body or uploaded files. Small imports answer 201 "
        "with counts; large ones answer 202 with the import job to poll.",
    )
    def post(self, request, pk: int):
        project = access.get_project_for(request.user, pk, roles=MANAGE)
        uploads = [upload for field in request.FILES for upload in request.FILES.getlist(field)]
        payload = None
        if not uploads:
            if not request.content_type.startswith("application/json") or request.data in ([], {}):
                raise ValidationError({"detail": "Send tasks as a JSON list in the body, or upload files in the multipart field 'file'."})
            payload = request.data
        outcome = task_import.start_import(project=project, user=request.user, uploads=uploads, payload=payload)
        if outcome.job is not None:
            outcome.job.refresh_from_db()
            answer = status.HTTP_503_SERVICE_UNAVAILABLE if outcome.job.status == Job.Status.FAILED else status.HTTP_202_ACCEPTED
            return Response(s.JobSerializer(outcome.job).data, status=answer, headers={"Location": f"/api/jobs/{outcome.job.pk}/"})
        return Response(outcome.counts.as_dict(), status=status.HTTP_201_CREATED)


@extend_schema(exclude=True)
class ImportSlashView(ImportView):
    """The same import at `import/`, for clients that add a trailing slash; documented once, without it."""


def strict_boolean_filter() -> django_filters.TypedChoiceFilter:
    """`true` or `false`; anything else is a 400 rather than silently ignored."""
    return django_filters.TypedChoiceFilter(choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true")


class TaskFilter(django_filters.FilterSet):
    is_finished = strict_boolean_filter()
    is_gold = strict_boolean_filter()
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    id_after = django_filters.NumberFilter(field_name="id", lookup_expr="gt")

    class Meta:
        model = Task
        fields = ["is_finished", "is_gold", "created_after", "created_before", "id_after"]


class TaskListView(generics.ListAPIView):
    serializer_class = s.TaskSerializer
    filterset_class = TaskFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Task.objects.none()
        self.project = access.get_project_for(self.request.user, self.kwargs["pk"])
        tasks = Task.objects.filter(project=self.project).order_by("id")
        if not access.sees_others_work(self.request.user, self.project):
            tasks = access.with_own_task_counts(tasks, self.request.user)
        return tasks

    @property
    def count_hint(self) -> int | None:
        """Skip COUNT(*) when no filter narrows the list: the project's counter is exact."""
        narrowing = set(self.request.query_params) - {"page", "page_size"}
        return None if narrowing else self.project.task_count


class TaskDetailView(generics.RetrieveAPIView):
    serializer_class = s.TaskDetailSerializer

    def get_object(self):
        task = access.get_task_for(self.request.user, self.kwargs["pk"])
        annotations = access.visible_annotations(self.request.user, task.project, Annotation.objects.filter(task=task))
        task.visible_annotations = list(annotations)
        task.sees_others_work = access.sees_others_work(self.request.user, task.project)
        if not task.sees_others_work:  # counts of their own annotations only: the others' would leak
            task.own_annotation_count = sum(1 for annotation in task.visible_annotations if not annotation.was_cancelled)
            task.own_cancelled_count = len(task.visible_annotations) - task.own_annotation_count
        return task


class AnnotationCreateView(APIView):
    @extend_schema(
        request=s.AnnotationInputSerializer,
        responses={201: s.AnnotationSerializer, 200: s.AnnotationSerializer, 409: OpenApiResponse(description="Already annotated")},
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, description="A retry with the same key returns the first annotation.")],
    )
    def post(self, request, pk: int):
        task = access.get_task_for(request.user, pk)
        body = s.AnnotationInputSerializer(data=request.data, task=task)
        body.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or None
        if key and len(key) > 128:
            raise ValidationError({"Idempotency-Key": "at most 128 characters"})
        annotation, created = services.submit_annotation(task=task, author=request.user, idempotency_key=key, **body.validated_data)
        return Response(s.AnnotationSerializer(annotation).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class AnnotationDetailView(APIView):
    @extend_schema(responses=s.AnnotationSerializer)
    def get(self, request, pk: int):
        return Response(s.AnnotationSerializer(access.get_annotation_for(request.user, pk)).data)

    @extend_schema(
        request=s.AnnotationPatchSerializer,
        responses={200: s.AnnotationSerializer, 409: OpenApiResponse(description="Changed meanwhile")},
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description="The version you edited, as in the body's `version`; 409 if it changed since.")],
    )
    def patch(self, request, pk: int):
        annotation = access.get_annotation_for(request.user, pk, write=True)
        body = s.AnnotationPatchSerializer(data=request.data, partial=True, task=annotation.task)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        expected = changes.pop("version", None) or _if_match_version(request)
        updated = services.update_annotation(annotation=annotation, changes=changes, expected_version=expected)
        return Response(s.AnnotationSerializer(updated).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        services.delete_annotation(annotation=access.get_annotation_for(request.user, pk, write=True))
        return Response(status=status.HTTP_204_NO_CONTENT)


class NextTaskView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter(
            "exclude", OpenApiTypes.STR,
            description=f"Comma-separated ids of tasks you already have in hand (at most {queue.MAX_EXCLUDED_TASKS}): "
            "the answer is a different task, so a client can prefetch the next one.",
        )],
        responses={200: s.LeasedTaskSerializer, 204: OpenApiResponse(description="No task is left for you in this project.")},
    )
    def get(self, request, pk: int):
        project = access.get_project_for(request.user, pk)
        exclude = _task_ids_param(request.query_params.get("exclude", ""))
        leased = queue.next_task_for(project=project, user=request.user, exclude=exclude)
        if leased is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(s.LeasedTaskSerializer(leased).data)


def _task_ids_param(raw: str) -> frozenset[int]:
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not all(part.isdigit() for part in parts):
        raise ValidationError({"exclude": "must be comma-separated task ids, e.g. exclude=12,13"})
    if len(parts) > queue.MAX_EXCLUDED_TASKS:
        raise ValidationError({"exclude": f"at most {queue.MAX_EXCLUDED_TASKS} task ids"})
    return frozenset(int(part) for part in parts)


class ReleaseView(APIView):
    @extend_schema(request=s.ReleaseSerializer, responses={204: None})
    def post(self, request, pk: int):
        project = access.get_project_for(request.user, pk)
        body = s.ReleaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        queue.release_leases(project=project, user=request.user, task_ids=body.validated_data["tasks"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class HistoryView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("before", OpenApiTypes.INT, description="Only annotations with a smaller id (the previous page's next_before)."),
            OpenApiParameter("limit", OpenApiTypes.INT, description="How many, 1-100 (default 20)."),
        ],
        responses=s.HistorySerializer,
    )
    def get(self, request, pk: int):
        project = access.get_project_for(request.user, pk)
        before = _positive_int_param(request, "before", default=None, maximum=None)
        limit = _positive_int_param(request, "limit", default=20, maximum=100)
        rows = queue.annotation_history(project, request.user, before=before, limit=limit)
        next_before = rows[-1]["annotation"] if len(rows) == limit else None
        return Response(s.HistorySerializer({"results": rows, "next_before": next_before}).data)


def _positive_int_param(request, name: str, *, default, maximum: int | None):
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1 or (maximum is not None and int(raw) > maximum):
        bound = f" up to {maximum}" if maximum else ""
        raise ValidationError({name: f"must be a whole number from 1{bound}"})
    return int(raw)


class ProgressView(APIView):
    @extend_schema(responses=s.ProgressSerializer)
    def get(self, request, pk: int):
        project = access.get_project_for(request.user, pk)
        return Response(s.ProgressSerializer(queue.annotator_progress(project, request.user)).data)


def _if_match_version(request) -> int | None:
    raw = request.headers.get("If-Match", "").strip().strip('"')
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationError({"If-Match": "must be the annotation's version number"})
    return int(raw)


class JobDetailView(generics.RetrieveAPIView):
    serializer_class = s.JobSerializer

    def get_object(self):
        return access.get_job_for(self.request.user, self.kwargs["pk"])


class JobCancelView(APIView):
    @extend_schema(request=None, responses=s.JobSerializer)
    def post(self, request, pk: int):
        job = jobs.request_cancel(access.get_job_for(request.user, pk))
        return Response(s.JobSerializer(job).data)
