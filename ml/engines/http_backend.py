"""A Label Studio ML backend over HTTP: `/health`, `/setup`, `/predict` and the `/webhook` training event.

Requests go through `json_http` (SSRF checks, retries of what a retry can fix, no answer body in a user's
error). A batch the backend answers with an error or garbage is retried task by task, so one bad task costs only
itself; when several tasks in a row fail that way the backend is taken as broken and the job fails saying why.
"""
import logging
import time
from dataclasses import dataclass, field

from .base import EngineError, Suggestion, TaskInput
from .json_http import BadAnswer, JsonService
from .json_http import NotAllowed as BackendNotAllowed
from .json_http import Unavailable as BackendUnavailable

logger = logging.getLogger(__name__)
FAILURES_BEFORE_BROKEN = 5
__all__ = ["BackendNotAllowed", "BackendUnavailable", "BadAnswer", "EngineError", "HttpBackend"]


@dataclass
class HttpBackend:
    url: str
    label_config: str
    project_id: int
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 0.5
    version: str = ""
    _ready: bool = field(default=False, repr=False)

    def predict(self, tasks: list[TaskInput]) -> list[Suggestion]:
        self._connect()
        try:
            return self._predict_batch(tasks)
        except BadAnswer as exc:
            if len(tasks) == 1:
                return [Suggestion(error=str(exc))]
        return self._predict_one_by_one(tasks)

    def start_training(self) -> dict:
        """Label Studio's START_TRAINING webhook event; the backend trains on its own schedule."""
        return self.send_event({"action": "START_TRAINING"})

    def send_event(self, event: dict) -> dict:
        """A Label Studio webhook event (`action` and its objects), with the project added as Label Studio does."""
        return self._post("/webhook", {**event, "project": {"id": self.project_id, "label_config": self.label_config}})

    def _connect(self) -> None:
        """As Label Studio does on connecting: /health must answer, /setup may name the model version."""
        if self._ready:
            return
        try:
            self._request("GET", "/health")
        except BadAnswer as exc:
            raise BackendUnavailable(f"ML backend is not healthy: {exc}") from None
        try:
            setup = self._post("/setup", {"project": str(self.project_id), "schema": self.label_config, "hostname": "", "access_token": "", "model_version": self.version})
        except BadAnswer:
            setup = {}  # older backends have no /setup
        if isinstance(setup, dict) and isinstance(setup.get("model_version"), str):
            self.version = self.version or setup["model_version"]
        self._ready = True

    def _predict_one_by_one(self, tasks: list[TaskInput]) -> list[Suggestion]:
        suggestions, failures_in_a_row = [], 0
        for task in tasks:
            try:
                suggestions += self._predict_batch([task])
                failures_in_a_row = 0
            except BadAnswer as exc:
                suggestions.append(Suggestion(error=str(exc)))
                failures_in_a_row += 1
                if failures_in_a_row >= FAILURES_BEFORE_BROKEN and len(suggestions) == failures_in_a_row:
                    raise BackendUnavailable(f"ML backend {self.url} answers nothing usable: {exc}") from None
        return suggestions

    def _predict_batch(self, tasks: list[TaskInput]) -> list[Suggestion]:
        body = {
            "tasks": [{"id": task.id, "data": task.data, "annotations": [], "predictions": []} for task in tasks],
            "label_config": self.label_config,
            "project": f"{self.project_id}.{int(time.time())}",
            "params": {"context": None},
        }
        answer = self._post("/predict", body)
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(tasks):
            got = f"{len(results)} results" if isinstance(results, list) else "no results list"
            raise BadAnswer(f"ML backend answered {got} for {len(tasks)} tasks; expected {{\"results\": [...]}} with one per task")
        default_version = answer.get("model_version") if isinstance(answer.get("model_version"), str) else self.version
        return [self._suggestion(item, default_version or "http") for item in results]

    def _suggestion(self, item, default_version: str) -> Suggestion:
        """One task's prediction: {"result": [...], "score", "model_version"}, or a bare list of result items."""
        if isinstance(item, list) and len(item) == 1 and isinstance(item[0], dict) and "result" in item[0]:
            item = item[0]  # some backends answer a list of predictions per task; we keep the first
        if isinstance(item, list):
            item = {"result": item}
        if not isinstance(item, dict) or not isinstance(item.get("result"), list):
            logger.warning("ML backend %s answered %.300r for a task", self.url, item)
            return Suggestion(error=f"ML backend answered {type(item).__name__} for a task; expected {{\"result\": [...]}}")
        score = item.get("score")
        score = float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None
        version = item.get("model_version") if isinstance(item.get("model_version"), str) else default_version
        return Suggestion(result=item["result"], score=score, model_version=version)

    def _post(self, path: str, body: dict):
        return self._service().post(path, body)

    def _request(self, method: str, path: str, body: bytes | None = None):
        return self._service().request(method, path, body)

    def _service(self) -> JsonService:
        return JsonService("ML backend", self.url, timeout=self.timeout, retries=self.retries, backoff=self.backoff)
