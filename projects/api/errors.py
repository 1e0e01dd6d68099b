"""Turn domain errors into precise 4xx JSON answers; never a 500 for bad input."""
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..importing import ImportError_
from ..label_config import LabelConfigError, ResultError
from ..services import AlreadyAnnotated, Conflict


def exception_handler(exc, context):
    if isinstance(exc, ImportError_):
        return Response({"detail": str(exc)}, status=exc.status)
    if isinstance(exc, LabelConfigError):
        return Response({"label_config": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ResultError):
        return Response({"result": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Conflict):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, AlreadyAnnotated):
        return Response({"detail": str(exc), "annotation_id": exc.annotation.pk}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
