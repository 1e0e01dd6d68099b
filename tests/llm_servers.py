"""OpenAI-compatible chat-completions servers for the LLM judge's tests, both real HTTP servers on 127.0.0.1.

- `LlamaServer`: llama-cpp-python's own server process, serving a tiny random llama-architecture model that
  `write_tiny_model` writes with the `gguf` package (half a megabyte, nothing downloaded). Its answers are
  nonsense, but held to the JSON schema by llama.cpp's grammar sampler: the real protocol, end to end.
- `ScriptedJudge`: a threaded HTTP server in the test process whose answers follow a rule the test picks (prefer
  the response that says "good", or always the first one shown), so a test can know what a judge should conclude.
"""
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tests.loopback_http import JsonHandler, LoopbackServer
from tests.processes import stop_process

TINY_MODEL_NAME = "tiny-judge"


def write_tiny_model(path: Path, *, n_embd: int = 64, n_layer: int = 2, n_head: int = 4, n_ff: int = 128,
                     context: int = 8192, seed: int = 7) -> Path:
    """A llama model with random weights and a byte-level SentencePiece vocabulary (every byte, plus printable
    ASCII as single tokens), so the grammar sampler can spell any JSON."""
    import gguf

    tokens = ["<unk>", "<s>", "</s>", *(f"<0x{byte:02X}>" for byte in range(256)), "\u2581",
              *(chr(code) for code in range(33, 127))]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL,
             *[gguf.TokenType.BYTE] * 256, *[gguf.TokenType.NORMAL] * (len(tokens) - 259)]
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(TINY_MODEL_NAME)
    writer.add_context_length(context)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(tokens))
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * 259 + [-1.0] * (len(tokens) - 259))
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_chat_template("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}<|assistant|>")
    rng = np.random.default_rng(seed)

    def random_tensor(name: str, *shape: int) -> None:
        writer.add_tensor(name, (rng.standard_normal(shape) * 0.05).astype(np.float32))

    random_tensor("token_embd.weight", len(tokens), n_embd)
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    random_tensor("output.weight", len(tokens), n_embd)
    for block in range(n_layer):
        writer.add_tensor(f"blk.{block}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{block}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            random_tensor(f"blk.{block}.{name}.weight", n_embd, n_embd)
        random_tensor(f"blk.{block}.ffn_gate.weight", n_ff, n_embd)
        random_tensor(f"blk.{block}.ffn_up.weight", n_ff, n_embd)
        random_tensor(f"blk.{block}.ffn_down.weight", n_embd, n_ff)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LlamaServer:
    """`python -m llama_cpp.server` on a free loopback port, serving the tiny model as "tiny-judge"."""

    def __init__(self, model_path: Path, log_path: Path):
        self.model_path, self.log_path = model_path, log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 60) -> None:
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model_path), "--model_alias", TINY_MODEL_NAME,
             "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "8192", "--n_threads", "1"],
            stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.process.returncode}; see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"llama_cpp.server did not listen within {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        stop_process(self.process)
        self.log.close()


class ScriptedJudge(LoopbackServer):
    """Answers /v1/chat/completions with a JSON judgment decided by `rule` ("content": prefer the response whose
    text says "good"; "first_shown": always the first object of the comparison, as a position-biased judge does;
    "garbage": not JSON at all). Every request body is kept in `requests`."""

    def __init__(self, rule: str = "content", confidence: int = 5):
        self.rule, self.confidence = rule, confidence
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        super().__init__()

    @property
    def url(self) -> str:
        return f"{self.base_url}/v1"

    def judgment(self, body: dict) -> str:
        if self.rule == "garbage":
            return "I think the first one is better."
        prompt = body["messages"][-1]["content"]
        texts = dict(re.findall(r"### (\w+)\n(.*?)(?=\n\n### |\n\nAnswer these questions)", prompt, re.DOTALL))
        answer = {}
        for key, question in _schema_of(body)["properties"].items():
            allowed = question.get("enum") or question["items"]["enum"]
            compared = [name for name in allowed if name in texts]
            if key == "confidence":
                answer[key] = self.confidence
            elif len(compared) == 2:
                answer[key] = self._pick(texts, compared)
            elif "items" in question:
                answer[key] = allowed[:1]
            else:
                answer[key] = allowed[0]
        return json.dumps(answer)

    def _pick(self, texts: dict, names: list[str]) -> str:
        if self.rule == "first_shown":
            return names[0]
        return next((name for name in names if "good" in texts[name]), names[0])

    def _handler(self):
        judge = self

        class Handler(JsonHandler):
            def do_POST(self):
                body = self.read_json()
                judge.requests.append(body)
                judge.headers.append(dict(self.headers))
                content = judge.judgment(body)
                answer = {"id": "chatcmpl-1", "object": "chat.completion", "model": body.get("model"),
                          "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                       "finish_reason": "stop"}]}
                self.answer(200, json.dumps(answer).encode())

        return Handler


def _schema_of(body: dict) -> dict:
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        return response_format["json_schema"]["schema"]
    return response_format["schema"]
