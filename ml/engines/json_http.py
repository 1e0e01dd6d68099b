"""JSON over HTTP to a service a manager configured (an ML backend, an LLM server), through `labeler.outbound`.

Requests are retried with backoff only when a retry can help (no connection, timeout, 502-504). The URL (and any
redirect) must not lead to an internal address unless LABELER_OUTBOUND_ALLOWED_HOSTS lists it. What the service
answers is never put into an error a user sees (an internal service could be made to answer its secrets): errors
say the status and a short reason, and the body goes to the worker's log, cut short.
"""
import http.client
import json
import logging
import time
from dataclasses import dataclass, field
from http import HTTPStatus

from labeler import outbound

from .base import EngineError

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = {502, 503, 504}
MAX_ANSWER_BYTES = 64 * 1024 * 1024
LOGGED_BODY_CHARS = 300
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class Unavailable(EngineError):
    """The service cannot be reached, times out, or answers nothing usable: the job fails with this."""


class NotAllowed(EngineError):
    """The service's URL, or a redirect it answered, leads where Labeler may not call: never retried."""


class BadAnswer(EngineError):
    """The service answered, but with an error status or a body that is not the format it should speak. Within a
    prediction it costs the task it was about; anywhere else it is an EngineError like any other."""


@dataclass
class JsonService:
    """A base URL and how patiently to call it; `name` is how errors call it ("ML backend", "LLM judge")."""

    name: str
    url: str
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 0.5
    headers: dict = field(default_factory=dict, repr=False)  # added to JSON_HEADERS; may hold a secret

    def post(self, path: str, body: dict):
        return self.request("POST", path, json.dumps(body).encode())

    def request(self, method: str, path: str, body: bytes | None = None):
        """The decoded JSON answer; retries what a retry can fix, Unavailable when that runs out."""
        url = self.url.rstrip("/") + path
        for attempt in range(self.retries + 1):
            try:
                return self._request_once(method, url, body)
            except Unavailable:
                if attempt == self.retries:
                    raise
                time.sleep(self.backoff * 2**attempt)

    def _request_once(self, method: str, url: str, body: bytes | None):
        try:
            answer = outbound.request(method, url, body=body, headers={**JSON_HEADERS, **self.headers},
                                      timeout=self.timeout, max_bytes=MAX_ANSWER_BYTES)
        except outbound.URLRefused as exc:
            raise NotAllowed(f"{self.name} {self.url} may not be called: {exc}") from None
        except TimeoutError:
            raise Unavailable(f"{self.name} {url} did not answer within {self.timeout:g} s") from None
        except http.client.HTTPException as exc:  # its message would quote what the other end sent
            raise Unavailable(f"{self.name} {url} did not answer HTTP ({exc.__class__.__name__})") from None
        except OSError as exc:
            raise Unavailable(f"{self.name} {url} is unreachable: {exc.strerror or exc.__class__.__name__}") from None
        if not 200 <= answer.status < 300:
            self._log_body(url, answer)
            reason = f"HTTP {answer.status} {_phrase(answer.status)}".rstrip()
            if answer.status in RETRYABLE_STATUS:
                raise Unavailable(f"{self.name} {url} answered {reason}")
            raise BadAnswer(f"{self.name} {url} answered {reason}")
        if len(answer.body) > MAX_ANSWER_BYTES:
            raise BadAnswer(f"{self.name} {url} answered more than {MAX_ANSWER_BYTES} bytes")
        try:
            return json.loads(answer.body) if answer.body.strip() else {}
        except ValueError:
            self._log_body(url, answer)
            raise BadAnswer(f"{self.name} {url} answered malformed JSON (HTTP {answer.status}, {len(answer.body)} bytes)") from None

    def _log_body(self, url: str, answer: outbound.Answer) -> None:
        excerpt = answer.body[:LOGGED_BODY_CHARS].decode(errors="replace")
        logger.warning("%s %s answered HTTP %s: %r%s", self.name, url, answer.status, excerpt,
                       "..." if len(answer.body) > LOGGED_BODY_CHARS else "")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
