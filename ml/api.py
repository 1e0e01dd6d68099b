"""Pre-labeling endpoints: the project's model, starting a job, training, versions, effort saved. Managers only."""
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from projects import access
from projects.access import MANAGE
from projects.api.errors import job_start_status
from projects.api.serializers import JobSerializer

from . import services
from .engines.base import EngineError
from .models import ModelVersion, ProjectModel
from .serializers import (
    EffortSerializer, ModelVersionSerializer, PredictInputSerializer, ProjectModelSerializer, TrainingSerializer,
)

NO_MODEL = OpenApiResponse(description="The project has no model yet")


def _managed_project(request, pk: int):
    return access.get_project_for(request.user, pk, roles=MANAGE)


def _model_or_409(project):
    try:
        return services.model_of(project), None
    except services.ModelNotSet as exc:
        return None, Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)


class ProjectModelView(APIView):
    @extend_schema(responses={200: ProjectModelSerializer, 409: NO_MODEL})
    def get(self, request, pk: int):
        model, missing = _model_or_409(_managed_project(request, pk))
        return missing or Response(ProjectModelSerializer(model).data)

    @extend_schema(request=ProjectModelSerializer, responses=ProjectModelSerializer,
                   description="Pick the project's model, or change its settings (all fields but engine optional).")
    def put(self, request, pk: int):
        return self._save(request, pk, partial=False)

    @extend_schema(request=ProjectModelSerializer, responses=ProjectModelSerializer)
    def patch(self, request, pk: int):
        return self._save(request, pk, partial=True)

    def _save(self, request, pk: int, *, partial: bool):
        project = _managed_project(request, pk)
        current = ProjectModel.objects.filter(project=project).first()
        body = ProjectModelSerializer(current, data=request.data, partial=partial and current is not None)
        body.is_valid(raise_exception=True)
        try:
            model = services.configure_model(project=project, changes=dict(body.validated_data))
        except services.InvalidSetting as exc:
            raise ValidationError({exc.field: [str(exc)]}) from None
        except EngineError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(ProjectModelSerializer(model).data)


class PredictView(APIView):
    @extend_schema(request=PredictInputSerializer, responses={202: JobSerializer, 409: NO_MODEL},
                   description="Start pre-labeling the project's tasks with its model; poll the job it answers.")
    def post(self, request, pk: int):
        project = _managed_project(request, pk)
        body = PredictInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            job = services.start_prelabel(project=project, user=request.user, **body.validated_data)
        except services.ModelNotSet as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        answer = job_start_status(job)  # first: it reads the job again, failed if the broker refused it
        return Response(JobSerializer(job).data, status=answer, headers={"Location": f"/api/jobs/{job.pk}/"})


class TrainView(APIView):
    @extend_schema(request=None, responses={202: TrainingSerializer, 409: NO_MODEL},
                   description="Re-train the project's model now (a learned model), or send the ML backend "
                   "Label Studio's START_TRAINING event.")
    def post(self, request, pk: int):
        model, missing = _model_or_409(_managed_project(request, pk))
        if missing:
            return missing
        queued = services.request_training(model.project_id)
        model.refresh_from_db(fields=["training_state"])
        return Response({"queued": queued, "training_state": model.training_state}, status=status.HTTP_202_ACCEPTED)


class ModelVersionListView(APIView):
    @extend_schema(responses=ModelVersionSerializer(many=True))
    def get(self, request, pk: int):
        versions = ModelVersion.objects.filter(project=_managed_project(request, pk)).defer("artifact")
        return Response(ModelVersionSerializer(versions, many=True).data)


class EffortView(APIView):
    @extend_schema(responses=EffortSerializer(many=True),
                   description="Human effort saved: per model version, annotations that started from its "
                   "predictions and the share accepted unchanged.")
    def get(self, request, pk: int):
        return Response(EffortSerializer(services.effort_saved(_managed_project(request, pk).pk), many=True).data)
