"""A Label Studio ML backend for tests: a real HTTP server on 127.0.0.1, in a thread, that answers as told.

`mode` sets how /predict answers: "ok" (a sentiment choice per task, Negative when the text says so), "slow"
(sleeps `delay` seconds first), "garbage" (malformed JSON). A task whose text contains "boom" makes the whole
request answer 500, as a backend that crashes on one input does.
"""
import json
import time

from tests.loopback_http import JsonHandler, LoopbackServer


class FakeMLBackend(LoopbackServer):
    def __init__(self, mode: str = "ok", delay: float = 0.0):
        self.mode, self.delay = mode, delay
        self.requests: list[tuple[str, dict]] = []
        super().__init__()

    @property
    def url(self) -> str:
        return self.base_url

    def predict(self, body: dict) -> tuple[int, bytes]:
        if self.mode == "slow":
            time.sleep(self.delay)
        if self.mode == "garbage":
            return 200, b'{"results": [oops'
        tasks = body["tasks"]
        if any("boom" in task["data"]["text"] for task in tasks):
            return 500, b"Internal Server Error"
        results = [
            {"model_version": "fake-1", "score": 0.75,
             "result": [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                         "value": {"choices": ["Negative" if "bad" in task["data"]["text"] else "Positive"]}}]}
            for task in tasks
        ]
        return 200, json.dumps({"results": results}).encode()

    def _handler(self):
        backend = self

        class Handler(JsonHandler):
            def do_GET(self):
                backend.requests.append((self.path, {}))
                self.answer(200, b'{"status": "UP", "model_class": "Fake"}') if self.path == "/health" else self.answer(404, b"{}")

            def do_POST(self):
                body = self.read_json()
                backend.requests.append((self.path, body))
                if self.path == "/predict":
                    self.answer(*backend.predict(body))
                elif self.path == "/setup":
                    self.answer(200, b'{"model_version": "fake-1"}')
                elif self.path == "/webhook":
                    self.answer(201, b"{}")
                else:
                    self.answer(404, b"{}")

        return Handler
