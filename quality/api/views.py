"""REST endpoints for consensus QA: project agreement, annotator scores, recompute jobs and review."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from projects import access
from projects.access import MANAGE, REVIEW
from projects.api.errors import job_start_status
from projects.api.serializers import JobSerializer, TaskDetailSerializer
from projects.models import Annotation

from .. import recompute, review
from ..models import AnnotatorScore
from .serializers import AnnotatorScoreSerializer, ReviewDecisionSerializer


class AgreementView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, description=(
        "Project agreement from the last recompute: `overall` (Krippendorff's alpha, Fleiss' kappa when every task "
        "has the same number of annotators, mean per-task agreement), `per_label`, and `histogram` of per-task "
        "agreement in ten bins over 0-1."
    ))
    def get(self, request, pk: int):
        project = access.get_project_for(request.user, pk, roles=REVIEW)
        return Response(project.quality_summary or recompute.EMPTY_SUMMARY)


class AnnotatorsView(APIView):
    @extend_schema(responses=AnnotatorScoreSerializer(many=True))
    def get(self, request, pk: int):
        project = access.get_project_for(request.user, pk, roles=REVIEW)
        scores = AnnotatorScore.objects.filter(project=project).select_related("user").order_by("user__username")
        return Response(AnnotatorScoreSerializer(scores, many=True).data)


class ConsensusJobView(APIView):
    @extend_schema(request=None, responses={202: JobSerializer, 503: JobSerializer})
    def post(self, request, pk: int):
        project = access.get_project_for(request.user, pk, roles=MANAGE)
        job = recompute.start_recompute(project=project, user=request.user)
        return Response(JobSerializer(job).data, status=job_start_status(job))


def _review_payload(request, task) -> dict:
    task.visible_annotations = list(Annotation.objects.filter(task=task).order_by("id"))
    task.sees_others_work = True
    return TaskDetailSerializer(task).data


class ReviewNextView(APIView):
    @extend_schema(responses={200: TaskDetailSerializer, 204: OpenApiResponse(description="Nothing waits for review.")})
    def get(self, request, pk: int):
        project = access.get_project_for(request.user, pk, roles=REVIEW)
        task = review.next_task_to_review(project)
        if task is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(_review_payload(request, task))


class ReviewDecisionView(APIView):
    @extend_schema(request=ReviewDecisionSerializer, responses=TaskDetailSerializer)
    def post(self, request, pk: int):
        task = access.get_task_for(request.user, pk)
        if task.project.user_role not in REVIEW:
            access.get_project_for(request.user, task.project_id, roles=REVIEW)  # raises the 403 with its reason
        body = ReviewDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            decided = _decide(task, request.user, body.validated_data)
        except review.ReviewError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(_review_payload(request, decided))


def _decide(task, reviewer, decision: dict):
    action = decision["action"]
    if action == "reject":
        return review.reject(task=task, reviewer=reviewer)
    if action == "edit":
        return review.edit_result(task=task, reviewer=reviewer, result=decision["result"])
    if "annotation" in decision:
        return review.accept_annotation(task=task, reviewer=reviewer, annotation_id=decision["annotation"])
    return review.accept_consensus(task=task, reviewer=reviewer)
