"""Turn domain errors into precise 4xx JSON answers; never a 500 for bad input."""
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, ValidationError as DjangoValidationError
from django.conf import settings
from django.db import DataError
from django.http import JsonResponse
from django.views.defaults import page_not_found
from psycopg.errors import NumericValueOutOfRange
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..imports.readers import ImportError_
from ..jobs import was_not_queued
from ..label_config import LabelConfigError, ResultError
from ..services import AlreadyAnnotated, Conflict, IdempotencyKeyReused, LastManager


MAX_DATABASE_INTEGER = 2**63 - 1

# Domain errors whose message is the whole answer, and the status each gets.
DETAIL_ERRORS = (
    (LastManager, status.HTTP_400_BAD_REQUEST),
    (IdempotencyKeyReused, status.HTTP_422_UNPROCESSABLE_ENTITY),
    (Conflict, status.HTTP_409_CONFLICT),
)


def job_start_status(job) -> int:
    """The one rule for every endpoint that starts a job: 202 once the job's message is with the broker, 503 when
    the broker refused it (the job failed at once, and its error says why; nothing is left queued). Call it before
    serializing the job: it reads the job again, so the answer's body says what happened."""
    job.refresh_from_db(fields=["status", "error", "finished_at"])
    return status.HTTP_503_SERVICE_UNAVAILABLE if was_not_queued(job) else status.HTTP_202_ACCEPTED


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
        limit = getattr(exc, "limit", settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return Response({"detail": f"The request body is over the {limit}-byte limit for this endpoint."}, status=413)
    if isinstance(exc, DjangoValidationError):
        # A model's validation names its fields: answer as DRF's field errors do.
        if hasattr(exc, "error_dict"):
            body = {("non_field_errors" if name == NON_FIELD_ERRORS else name): errors for name, errors in exc.message_dict.items()}
        else:
            body = {"detail": " ".join(exc.messages)}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, UnsupportedMediaType):
        return Response({"detail": unsupported_media_type_detail(exc, context)}, status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
    if is_number_out_of_range(exc):
        return number_out_of_range(context)
    return drf_exception_handler(exc, context)


def unsupported_media_type_detail(exc: UnsupportedMediaType, context) -> str:
    accepted = [parser.media_type for parser in getattr(context.get("request"), "parsers", [])]
    sent = exc.detail if isinstance(exc.detail, str) else "The Content-Type"
    return f"{sent.rstrip('.')}; send {' or '.join(accepted) or 'application/json'}."


def is_number_out_of_range(exc: Exception) -> bool:
    """An id or count past the database's 64-bit integers: SQLite's OverflowError, PostgreSQL's out-of-range."""
    if isinstance(exc, OverflowError):
        return True
    return isinstance(exc, DataError) and isinstance(exc.__cause__, NumericValueOutOfRange)


def number_out_of_range(context) -> Response:
    """No object has such an id: 404 when it is in the path, 400 when it came in the query or the body."""
    in_path = any(isinstance(value, int) and abs(value) > MAX_DATABASE_INTEGER for value in (context.get("kwargs") or {}).values())
    if in_path:
        return Response({"detail": "No object with that id: it is past the largest id there can be."}, status=404)
    return Response({"detail": f"A number in the request is out of range (at most {MAX_DATABASE_INTEGER})."}, status=400)


class GuardedJSONParser(JSONParser):
    """DRF's JSON parser, with JSON nested past Python's recursion limit answered as a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None


def not_found(request, exception=None):
    """Django's 404 for a URL no route matches (a negative or non-numeric id): JSON under /api/, a page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": f"No API endpoint or object at {request.path}."}, status=404)
    return page_not_found(request, exception)
