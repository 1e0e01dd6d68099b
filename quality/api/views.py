"""REST endpoints for consensus QA: project agreement, annotator scores, recompute jobs, review, the model leaderboard."""
from django.conf import settings
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

from .. import judging, leaderboard_jobs, recompute, review, selectors
from .serializers import (AnnotatorScoreSerializer, JudgeReportSerializer, LeaderboardNotComputedSerializer,
                          LeaderboardParamsSerializer, LeaderboardSerializer, ReviewDecisionSerializer)


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
        answer = job_start_status(job)  # first: it reads the job again, failed if the broker refused it
        return Response(JobSerializer(job).data, status=answer)


class LeaderboardView(APIView):
    @extend_schema(
        parameters=[LeaderboardParamsSerializer],
        responses={200: LeaderboardSerializer, 409: OpenApiResponse(
            LeaderboardNotComputedSerializer, description="Too big to compute in the request, and no snapshot yet: POST.")},
        description=(
            "The models compared in the project's Pairwise, Ranker and Rating results (which model wrote a response is "
            "task data: `model_<object name>`, for a Pairwise's objects else `model_a`/`model_b`; a List item's `model` "
            "or `title`). Per model: its Bradley-Terry score on the Elo scale (Chatbot Arena's fit, ties as half a win, "
            "the models' mean at 1000) with a 95% bootstrap interval, wins, losses, ties, win rate and judgments, and "
            "per rating control the mean rating with a 95% interval; plus the win-rate matrix. Managers and reviewers; "
            "annotators too where the project is not blind. A project with more judged tasks than "
            "LABELER_LEADERBOARD_INLINE_MAX gets the newest snapshot a job made (POST), whatever its bootstrap rounds "
            "(`bootstrap` says them), with `computed_at`, `job` and `annotations_changed`; 409 while there is none."
        ),
    )
    def get(self, request, pk: int):
        project = _leaderboard_project(request.user, pk)
        params = _leaderboard_params(request.query_params)
        if leaderboard_jobs.computes_inline(project, params["source"]):
            board = leaderboard_jobs.inline_answer(project, source=params["source"], bootstrap_rounds=params["bootstrap"])
            return Response(LeaderboardSerializer(board).data)
        snapshot = leaderboard_jobs.newest_snapshot(project, params["source"])
        if snapshot is None:
            return _not_computed_yet(project, params["source"])
        return Response(LeaderboardSerializer(leaderboard_jobs.snapshot_answer(snapshot, project)).data)

    @extend_schema(request=LeaderboardParamsSerializer, responses={202: JobSerializer, 503: JobSerializer}, description=(
        "Compute the leaderboard as a job (202 with the job; poll `GET /api/jobs/{id}/`). Its board is what GET answers "
        "from then on for a project too big to compute in the request. Asking again while your job with the same "
        "settings is queued or running answers that job. Who may: as for GET."
    ))
    def post(self, request, pk: int):
        project = _leaderboard_project(request.user, pk)
        params = _leaderboard_params(request.data)
        job = leaderboard_jobs.start_leaderboard_job(project=project, user=request.user, **params)
        answer = job_start_status(job)  # first: it reads the job again, failed if the broker refused it
        return Response(JobSerializer(job).data, status=answer, headers={"Location": f"/api/jobs/{job.pk}/"})


def _leaderboard_project(user, pk: int):
    project = access.get_project_for(user, pk)
    if not access.sees_others_work(user, project):
        raise PermissionDenied(
            f"Project {project.pk} is blind: its leaderboard sums up everyone's judgments, so it needs the manager "
            f"or reviewer role; you are {project.user_role}."
        )
    return project


def _leaderboard_params(data) -> dict:
    params = LeaderboardParamsSerializer(data=data)
    params.is_valid(raise_exception=True)
    return params.validated_data


def _not_computed_yet(project, source: str) -> Response:
    url = f"/api/projects/{project.pk}/leaderboard/"
    running = leaderboard_jobs.unfinished_job(project, source)
    size = leaderboard_jobs.judged_size(project, source)
    detail = (f"Project {project.pk} has {size:,} judged {'annotations' if source == 'annotations' else 'tasks'}, more "
              f"than the {settings.LABELER_LEADERBOARD_INLINE_MAX:,} a leaderboard is computed for while you wait, and no "
              f"{source} leaderboard has been computed yet: POST {url} with {{\"source\": \"{source}\", \"bootstrap\": N}} "
              f"to compute it as a job, then GET this again.")
    if running is not None:
        detail += f" Job {running.pk} is computing one now."
    return Response({"detail": detail, "url": url, "job": running.pk if running else None}, status=status.HTTP_409_CONFLICT)


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
