"""A Label Studio ML backend for tests: a real HTTP server on 127.0.0.1, in a thread, that answers as told.

`mode` sets how /predict answers: "ok" (a sentiment choice per task, Negative when the text says so), "slow"
(sleeps `delay` seconds first), "garbage" (malformed JSON). A task whose text contains "boom" makes the whole
request answer 500, as a backend that crashes on one input does.
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeMLBackend:
    def __init__(self, mode: str = "ok", delay: float = 0.0):
        self.mode, self.delay = mode, delay
        self.requests: list[tuple[str, dict]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

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

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout tests)

            def do_GET(self):
                backend.requests.append((self.path, {}))
                self._answer(200, b'{"status": "UP", "model_class": "Fake"}') if self.path == "/health" else self._answer(404, b"{}")

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                backend.requests.append((self.path, body))
                if self.path == "/predict":
                    self._answer(*backend.predict(body))
                elif self.path == "/setup":
                    self._answer(200, b'{"model_version": "fake-1"}')
                elif self.path == "/webhook":
                    self._answer(201, b"{}")
                else:
                    self._answer(404, b"{}")

        return Handler
