"""Cap request bodies before they are read: small for every endpoint, large only where uploads go.

Without a cap any caller, signed in or not, could make a worker hold a body of hundreds of megabytes (and
Python's JSON parser several times that). A declared Content-Length over the cap is answered 413 before a
byte of the body is read; a body of unknown length is counted as it is read and stopped at the cap. The import
endpoints take up to LABELER_IMPORT_MAX_BYTES, which they stream to disk.
"""
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.urls import Resolver404, resolve

# The views that accept large uploads (URL names), each streaming what it receives to disk.
LARGE_BODY_VIEWS = frozenset({"api-import", "api-import-slash", "admin:projects_project_import"})


class RequestBodyTooLarge(RequestDataTooBig):
    def __init__(self, limit: int):
        super().__init__(f"The request body is over the {limit}-byte limit for this endpoint.")
        self.limit = limit


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = declared_length(request)
        limit = body_limit_for(request.path_info, length)
        if length is not None and length > limit:
            return too_large(limit)
        if length is None:
            request._stream = CappedStream(request._stream, limit)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestBodyTooLarge):
            return too_large(exception.limit)
        return None


def declared_length(request) -> int | None:
    """The body's declared length; None when the request does not declare one (or declares nonsense)."""
    raw = request.META.get("CONTENT_LENGTH")
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


def body_limit_for(path: str, length: int | None) -> int:
    """The cap of the view at `path`. Only a body over the ordinary cap costs a URL lookup."""
    ordinary = settings.LABELER_MAX_BODY_BYTES
    if length is not None and length <= ordinary:
        return ordinary
    try:
        view_name = resolve(path).view_name
    except Resolver404:
        return ordinary
    return settings.LABELER_IMPORT_MAX_BYTES if view_name in LARGE_BODY_VIEWS else ordinary


def too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        {"detail": f"The request body is over the {limit}-byte limit for this endpoint (LABELER_MAX_BODY_BYTES; "
                   "imports take up to LABELER_IMPORT_MAX_BYTES)."},
        status=413,
    )


class CappedStream:
    """A request body stream that raises RequestBodyTooLarge once more than `limit` bytes were read from it."""

    def __init__(self, stream, limit: int):
        self.stream, self.limit, self.read_so_far = stream, limit, 0

    def _count(self, chunk: bytes) -> bytes:
        self.read_so_far += len(chunk)
        if self.read_so_far > self.limit:
            raise RequestBodyTooLarge(self.limit)
        return chunk

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.limit + 1 - self.read_so_far  # never pull an unbounded body into memory at once
        return self._count(self.stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.limit + 1 - self.read_so_far
        return self._count(self.stream.readline(size))

    def __iter__(self):
        return iter(self.readline, b"")
