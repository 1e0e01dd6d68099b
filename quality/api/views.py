"""REST endpoints for consensus QA: project agreement, annotator scores, recompute jobs, review, the model leaderboard."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from projects import access
from projects.access import MANAGE, REVIEW
from projects.api.errors import job_start_status
from projects.api.serializers import JobSerializer, TaskDetailSerializer

from .. import judging, leaderboard, recompute, review, selectors
from .serializers import (AnnotatorScoreSerializer, JudgeReportSerializer, LeaderboardParamsSerializer,
                          LeaderboardSerializer, ReviewDecisionSerializer)


class AgreementView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, description=(
        "Project agreement from the last recompute: `overall` (Krippendorff's alpha, Fleiss' kappa when every task "
        "has the same number of annotators, mean per-task agreement), `per_label`, `histogram` of per-task "
        "agreement in ten bins over 0-1, and `controls`: per control its type's figures (mean per-task agreement "
        "and confidence; a Pairwise's answer counts, tie share and position bias; a Ranker's Kendall's W; a "
        "Rating's Krippendorff's alpha over the project)."
    ))
    def get(self, request, pk: int):
        project = access.get_project_for(request.user, pk, roles=REVIEW)
        return Response(project.quality_summary or recompute.EMPTY_SUMMARY)


class AnnotatorsView(APIView):
    @extend_schema(responses=AnnotatorScoreSerializer(many=True))
    def get(self, request, pk: int):
        project = access.get_project_for(request.user, pk, roles=REVIEW)
        return Response(AnnotatorScoreSerializer(selectors.annotator_scores(project), many=True).data)


class ConsensusJobView(APIView):
    @extend_schema(request=None, responses={202: JobSerializer, 503: JobSerializer})
    def post(self, request, pk: int):
        project = access.get_project_for(request.user, pk, roles=MANAGE)
        job = recompute.start_recompute(project=project, user=request.user)
        return Response(JobSerializer(job).data, status=job_start_status(job))


class LeaderboardView(APIView):
    @extend_schema(parameters=[LeaderboardParamsSerializer], responses=LeaderboardSerializer, description=(
        "The models compared in the project's Pairwise, Ranker and Rating results (which model wrote a response is "
        "task data: `model_<object name>`, for a Pairwise's objects else `model_a`/`model_b`; a List item's `model` "
        "or `title`). Per model: its Bradley-Terry score on the Elo scale (Chatbot Arena's fit, ties as half a win, "
        "the models' mean at 1000) with a 95% bootstrap interval, wins, losses, ties, win rate and judgments, and "
        "per rating control the mean rating with a 95% interval; plus the win-rate matrix. Managers and reviewers; "
        "annotators too where the project is not blind."
    ))
    def get(self, request, pk: int):
        project = access.get_project_for(request.user, pk)
        if not access.sees_others_work(request.user, project):
            raise PermissionDenied(
                f"Project {project.pk} is blind: its leaderboard sums up everyone's judgments, so it needs the manager "
                f"or reviewer role; you are {project.user_role}."
            )
        params = LeaderboardParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        board = leaderboard.project_leaderboard(
            project, source=params.validated_data["source"], bootstrap_rounds=params.validated_data["bootstrap"]
        )
        return Response(board)


class JudgesView(APIView):
    @extend_schema(responses=JudgeReportSerializer, description=(
        "Per LLM judge model version: tasks it judged, and per control how often it gave the human answer (the "
        "reviewed result, else the consensus) with Cohen's kappa; how often its answer stayed the same with the "
        "responses' order traded. `fewer_humans`: tasks a confident judge let one human check settle, and the human "
        "judgments that saved. Managers and reviewers."
    ))
    def get(self, request, pk: int):
        project = access.get_project_for(request.user, pk, roles=REVIEW)
        return Response(JudgeReportSerializer(judging.judge_report(project)).data)


def _review_payload(task) -> dict:
    return TaskDetailSerializer(task, context={"work": selectors.review_work(task)}).data


class ReviewNextView(APIView):
    @extend_schema(
        responses={200: TaskDetailSerializer, 204: OpenApiResponse(description="Nothing waits for review.")},
        description="The next task waiting for review, leased to you (as next/ leases tasks to annotators): asking "
        "again while the lease holds answers the same task, and other reviewers get other tasks meanwhile.",
    )
    def get(self, request, pk: int):
        project = access.get_project_for(request.user, pk, roles=REVIEW)
        task = review.next_task_to_review(project, request.user)
        if task is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(_review_payload(task))


class ReviewDecisionView(APIView):
    @extend_schema(
        request=ReviewDecisionSerializer,
        responses={200: TaskDetailSerializer, 409: OpenApiResponse(description="The task does not wait for review (any more).")},
    )
    def post(self, request, pk: int):
        task = access.get_task_for(request.user, pk)
        if task.project.user_role not in REVIEW:
            access.get_project_for(request.user, task.project_id, roles=REVIEW)  # raises the 403 with its reason
        body = ReviewDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decision = body.validated_data
        try:
            decided = review.decide(
                task_id=task.pk, reviewer=request.user, action=decision["action"],
                annotation_id=decision.get("annotation"), result=decision.get("result"),
            )
        except review.ReviewError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        except review.NotPendingReview as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(_review_payload(decided))
