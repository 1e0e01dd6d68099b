"""REST endpoints. Each view parses and authorises, calls one service, and shapes the answer."""
import django_filters
from django.conf import settings
from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission, IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import access, queue, selectors, services, task_edits, tokens
from ..access import MANAGE
from ..imports import service as import_service
from ..imports.uploads import spool_body
from ..jobs import request_cancel
from ..label_config import task_presentation
from ..models import Project, ProjectMember, Task
from . import serializers as s
from .errors import GuardedJSONParser, job_start_status
from .pagination import is_whole_number, whole_number_param

User = get_user_model()


TOKEN_ANSWER = inline_serializer("Token", {"token": serializers.CharField(), "expires_at": serializers.DateTimeField(allow_null=True)})
TOO_MANY_SIGN_INS = OpenApiResponse(description="Too many failed sign-ins for this username or from this address; see Retry-After.")


def _token_answer(token) -> dict:
    return {"token": token.key, "expires_at": tokens.expires_at(token)}


class TokenView(APIView):
    """POST trades a username and password for the user's API token; DELETE revokes the caller's token."""

    def get_authenticators(self):
        # Signing in reads only the body: a stale token or a session cookie sent along must not stand in its way.
        return [] if self._signing_in() else super().get_authenticators()

    def get_permissions(self):
        return [AllowAny()] if self._signing_in() else [IsAuthenticated()]

    def _signing_in(self) -> bool:
        return getattr(self.request, "method", None) == "POST"  # the schema generator asks before it has a request

    @extend_schema(request=AuthTokenSerializer, responses={200: TOKEN_ANSWER, 400: OpenApiResponse(description="Wrong credentials."), 429: TOO_MANY_SIGN_INS})
    def post(self, request):
        # django-axes counts failures through authenticate(), on the Django request its middleware answers for.
        credentials = AuthTokenSerializer(data=request.data, context={"request": request._request})
        credentials.is_valid(raise_exception=True)
        return Response(_token_answer(tokens.issue_token(credentials.validated_data["user"])))

    @extend_schema(request=None, responses={204: None, 401: OpenApiResponse(description="No valid credentials.")},
                   description="Revoke the caller's API token: it stops working at once. Sign in again for a new one.")
    def delete(self, request):
        tokens.revoke_token(request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRotateView(APIView):
    @extend_schema(request=None, responses={200: TOKEN_ANSWER, 401: OpenApiResponse(description="No valid credentials.")},
                   description="Replace the caller's API token with a new one; the old one stops working at once.")
    def post(self, request):
        return Response(_token_answer(tokens.rotate_token(request.user)))


class UserListView(generics.ListCreateAPIView):
    permission_classes = [IsAdminUser]
    queryset = User.objects.order_by("id")

    def get_serializer_class(self):
        return s.UserCreateSerializer if self.request.method == "POST" else s.UserSerializer

    def perform_create(self, serializer):
        serializer.instance = services.create_user(**serializer.validated_data)


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
        serializer.instance = access.get_project_for(self.request.user, project.pk)  # with the creator's role


class ProjectDetailView(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = s.ProjectSerializer

    def get_object(self):
        roles = None if self.request.method == "GET" else MANAGE
        return access.get_project_with_counts_for(self.request.user, self.kwargs["pk"], roles=roles)

    def perform_update(self, serializer):
        updated = services.update_project(project=serializer.instance, changes=serializer.validated_data)
        serializer.instance = access.get_project_for(self.request.user, updated.pk)  # with the caller's role


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
    EMPTY_BODY_ERROR = "Send tasks as a JSON list in the body, or upload files in the multipart field 'file'."
    DUPLICATE_PARAMETER = OpenApiParameter(
        "allow_duplicate", OpenApiTypes.BOOL,
        description="Import even when the same content was already imported into this project (otherwise 409).",
    )
    # The only endpoint that takes files; every other one takes JSON alone (REST_FRAMEWORK's parsers).
    parser_classes = [GuardedJSONParser, MultiPartParser]

    @extend_schema(
        request={
            "application/json": {"type": "array", "items": {"type": "object"}},
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
        },
        parameters=[DUPLICATE_PARAMETER],
        responses={
            201: s.ImportResultSerializer, 202: s.JobSerializer,
            409: OpenApiResponse(description="The same content is already imported (or being imported); `job` names that import."),
            413: OpenApiResponse(description="The upload is over LABELER_IMPORT_MAX_BYTES, or a ZIP entry over its limits."),
        },
        description="Import tasks (Label Studio format) from a JSON body or uploaded files. Small imports answer 201 "
        "with counts; large ones answer 202 with the import job to poll. Sending the same content again answers 409 "
        "naming the earlier import job, unless `allow_duplicate=true`.",
    )
    def post(self, request, pk: int):
        project = access.get_project_for(request.user, pk, roles=MANAGE)
        allow_duplicate = _boolean_param(request, "allow_duplicate")
        uploads = self._uploads(request)
        try:
            outcome = import_service.start_import(project=project, user=request.user, uploads=uploads, allow_duplicate=allow_duplicate)
        except import_service.DuplicateImport as duplicate:
            return Response({"detail": str(duplicate), "job": duplicate.job.pk}, status=status.HTTP_409_CONFLICT)
        finally:
            for upload in uploads:
                upload.close()
        location = {"Location": f"/api/jobs/{outcome.job.pk}/"}
        if outcome.counts is None:
            answer = job_start_status(outcome.job)
            return Response(s.JobSerializer(outcome.job).data, status=answer, headers=location)
        return Response(outcome.counts.as_dict(), status=status.HTTP_201_CREATED, headers=location)

    def _uploads(self, request) -> list:
        """The uploaded files, or the JSON body spooled to a temporary file (never parsed in memory whole)."""
        if request.content_type.startswith("application/json"):
            if request.stream is None:
                raise ValidationError({"detail": self.EMPTY_BODY_ERROR})
            body = spool_body(request.stream, name="request-body.json", content_type="application/json",
                              limit=settings.LABELER_IMPORT_MAX_BYTES)
            if body.size <= 16 and body.read().strip() in (b"", b"[]", b"{}"):
                body.close()
                raise ValidationError({"detail": self.EMPTY_BODY_ERROR})
            return [body]
        uploads = [upload for field in request.FILES for upload in request.FILES.getlist(field)]
        if not uploads:
            raise ValidationError({"detail": self.EMPTY_BODY_ERROR})
        return uploads


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


class TaskDetailView(APIView):
    """One task (Label Studio's GET, PATCH, DELETE /api/tasks/{id}/); changes are for the project's managers."""

    @extend_schema(responses=s.TaskDetailSerializer)
    def get(self, request, pk: int):
        task = access.get_task_for(request.user, pk)
        return Response(_task_detail(task, request.user, loaded=task))

    @extend_schema(
        request=s.TaskPatchSerializer,
        responses={200: s.TaskDetailSerializer, 400: OpenApiResponse(description="A field refused, named in the answer."), 403: None},
        description="Change a task's `data`, `meta`, `is_gold` and `gold_result` (checked against the label config).",
    )
    def patch(self, request, pk: int):
        task = _managed_task(request.user, pk)
        body = s.TaskPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            updated = task_edits.update_task(task=task, changes=dict(body.validated_data))
        except task_edits.InvalidTaskChange as exc:
            raise ValidationError({exc.field: [str(exc)]}) from None
        # The change leaves the annotations as they were: read what the caller may see of them through `task`.
        return Response(_task_detail(updated, request.user, loaded=task))

    @extend_schema(responses={204: None, 403: None})
    def delete(self, request, pk: int):
        task_edits.delete_task(task=_managed_task(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _task_detail(task: Task, user, *, loaded: Task) -> dict:
    """The task as `user` sees it: the annotations they may see read through `loaded` (as access loaded it, with
    their role), and the order the labeling page shows it to them in."""
    presentation = task_presentation(services.project_config(task.project), task.pk, user.pk)
    work = selectors.visible_work(user, loaded)
    hidden = not task.project.show_collab_predictions and not access.reads_predictions_when_hidden(user, loaded.project)
    context = {"work": work, "presentation": presentation, "hide_predictions": hidden}
    return s.TaskDetailSerializer(task, context=context).data


def _managed_task(user, task_id: int) -> Task:
    task = access.get_task_for(user, task_id)
    if task.project.user_role not in MANAGE:
        raise PermissionDenied(f"Only managers of project {task.project_id} may change its tasks; you are {task.project.user_role}.")
    return task


def _boolean_param(request, name: str) -> bool:
    raw = request.query_params.get(name, "false").strip().lower()
    if raw not in ("true", "false", "1", "0"):
        raise ValidationError({name: "must be true or false"})
    return raw in ("true", "1")


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
        presentation = task_presentation(services.project_config(project), leased.task.id, request.user.id)
        context = {"presentation": presentation, "hide_predictions": not project.show_collab_predictions}
        return Response(s.LeasedTaskSerializer(leased, context=context).data)


def _task_ids_param(raw: str) -> frozenset[int]:
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not all(is_whole_number(part) for part in parts):
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
        rows = selectors.annotation_history(project, request.user, before=before, limit=limit)
        next_before = rows[-1]["annotation"] if len(rows) == limit else None
        return Response(s.HistorySerializer({"results": rows, "next_before": next_before}).data)


def _positive_int_param(request, name: str, *, default, maximum: int | None):
    value = whole_number_param(request, name, maximum=maximum)
    return default if value is None else value


class ProgressView(APIView):
    @extend_schema(responses=s.ProgressSerializer)
    def get(self, request, pk: int):
        project = access.get_project_for(request.user, pk)
        return Response(s.ProgressSerializer(selectors.annotator_progress(project, request.user)).data)


def _if_match_version(request) -> int | None:
    raw = request.headers.get("If-Match", "").strip().strip('"')
    if not raw:
        return None
    if not is_whole_number(raw):
        raise ValidationError({"If-Match": "must be the annotation's version number"})
    return int(raw)


class JobDetailView(generics.RetrieveAPIView):
    serializer_class = s.JobSerializer

    def get_object(self):
        return access.get_job_for(self.request.user, self.kwargs["pk"])


class JobCancelView(APIView):
    @extend_schema(request=None, responses=s.JobSerializer)
    def post(self, request, pk: int):
        job = request_cancel(access.get_job_for(request.user, pk))
        return Response(s.JobSerializer(job).data)
