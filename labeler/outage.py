"""Answer 503 with a Retry-After while the database is unreachable, instead of Django's HTML "Server Error (500)".

API clients get JSON (`{"detail": ...}`), pages a short HTML page; both tell the client when to try again. The
middleware catches what views raise; `server_error` (the 500 handler) catches what other middleware raises,
such as saving a session after the view.
"""
import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

logger = logging.getLogger(__name__)
OUTAGE_ERRORS = (OperationalError, InterfaceError)
DETAIL = "The database is unreachable at the moment; nothing was changed. Try again in a few seconds."
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Labeler is briefly unavailable</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem">
<h1>Labeler is briefly unavailable</h1><p>Its database cannot be reached. Your work already sent is safe;
reload this page in a few seconds.</p></body></html>"""


def is_outage(exc: BaseException | None) -> bool:
    """A lost or refused database connection; not a bad query (ProgrammingError, IntegrityError), which is a bug."""
    return isinstance(exc, OUTAGE_ERRORS)


def outage_response(request: HttpRequest) -> HttpResponse:
    retry_after = str(settings.LABELER_OUTAGE_RETRY_AFTER)
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": DETAIL}, status=503)
    else:
        response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = retry_after
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not is_outage(exc):
            return None
        logger.error("database unreachable during %s %s: %s", request.method, request.path, exc)
        return outage_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_outage(sys.exc_info()[1]):
        return outage_response(request)
    return defaults.server_error(request)
