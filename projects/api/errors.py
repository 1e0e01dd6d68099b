"""Turn domain errors into precise 4xx JSON answers; never a 500 for bad input."""
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, ValidationError as DjangoValidationError
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..importing import ImportError_
from ..label_config import LabelConfigError, ResultError
from ..services import AlreadyAnnotated, Conflict, IdempotencyKeyReused, LastManager


# Domain errors whose message is the whole answer, and the status each gets.
DETAIL_ERRORS = (
    (LastManager, status.HTTP_400_BAD_REQUEST),
    (IdempotencyKeyReused, status.HTTP_422_UNPROCESSABLE_ENTITY),
    (Conflict, status.HTTP_409_CONFLICT),
)


def exception_handler(exc, context):
    if isinstance(exc, ImportError_):
        return Response({"detail": str(exc)}, status=exc.status)
    if isinstance(exc, LabelConfigError):
        return Response({"label_config": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ResultError):
        return Response({"result": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
    for error_class, code in DETAIL_ERRORS:
        if isinstance(exc, error_class):
            return Response({"detail": str(exc)}, status=code)
    if isinstance(exc, AlreadyAnnotated):
        return Response({"detail": str(exc), "annotation_id": exc.annotation.pk}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response({"detail": f"The request body is over the {limit}-byte limit; upload a file instead."}, status=413)
    if isinstance(exc, DjangoValidationError):
        # A model's validation names its fields: answer as DRF's field errors do.
        if hasattr(exc, "error_dict"):
            body = {("non_field_errors" if name == NON_FIELD_ERRORS else name): errors for name, errors in exc.message_dict.items()}
        else:
            body = {"detail": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


class GuardedJSONParser(JSONParser):
    """DRF's JSON parser, with JSON nested past Python's recursion limit answered as a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
