"""An LLM judge: an OpenAI-compatible chat-completions server (vLLM, llama.cpp, Ollama, a hosted provider) answers
the project's <Pairwise>, <Rating> and <Choices> questions, its answer held to a JSON schema built from the label
config. Each control type says what the judge is asked and how its answer becomes a result
(`ControlType.judge_question` / `judge_value`); each object type how its task value reads as text (`judge_text`).

Position bias: a task with a comparison is asked twice, the compared texts traded the second time. An answer
that changes with the order is stored with score 0 and `swap_consistent: false` in the prediction's details, so
it never stands in for a person. Otherwise the score is the judge's own confidence (1-5) over 5.
"""
import hashlib
import json
import re
import string
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from projects.control_types import JUDGE_VERSION_PREFIX, ControlTag, JudgeQuestion, control_type, object_type
from projects.label_config import LabelConfig

from .base import EngineError, Suggestion, TaskInput
from .json_http import BadAnswer, JsonService

# How the request asks for JSON: OpenAI's json_schema (OpenAI, vLLM, llama.cpp's llama-server, Ollama, LM Studio),
# the json_object-with-schema dialect (llama-cpp-python's server, Together), or only the prompt (the answer is
# checked against the schema all the same).
JSON_SCHEMA, JSON_OBJECT, PROMPT_ONLY = "json_schema", "json_object", "prompt"
CONFIDENCE_KEY = "confidence"
CONFIDENCE_LEVELS = 5
FAILURES_BEFORE_BROKEN = 5
SYSTEM_PROMPT = (
    "You are a careful, impartial judge of AI assistants' responses. Judge helpfulness, correctness and clarity. "
    "Do not let the order in which responses are shown, their length or their style sway you. "
    "Answer only with the JSON object asked for."
)
DEFAULT_TEMPLATE = "$objects\n\nAnswer these questions:\n$questions\n\nReply with one JSON object with the keys $keys."
TEMPLATE_FIELDS = ("objects", "questions", "keys")


@dataclass(frozen=True)
class JudgeSettings:
    url: str  # the server's base URL; requests go to {url}/chat/completions
    model: str
    api_key: str = ""  # read from the environment by the caller; sent as a bearer token, never logged
    template: str = ""
    structured_output: str = JSON_SCHEMA
    swap: bool = True
    timeout: float = 60.0
    retries: int = 2
    backoff: float = 0.5
    max_tokens: int = 300
    concurrency: int = 4


@dataclass(frozen=True)
class Question:
    control: ControlTag
    asked: JudgeQuestion


def judge_questions(config: LabelConfig) -> list[Question]:
    """The controls a text-only judge can answer: a judge question of their type, on objects it can read."""
    questions = []
    for control in config.controls.values():
        kind = control_type(control.tag)
        asked = kind.judge_question(control) if kind else None
        readable = all(object_type(config.objects[name].tag).judge_text(config.objects[name], "") is not None
                       for name in control.to_names)
        if asked is not None and readable:
            questions.append(Question(control, asked))
    return questions


def check_template(template: str, config: LabelConfig) -> None:
    """EngineError naming a $placeholder the prompt template uses that is neither an object nor a known field."""
    known = set(TEMPLATE_FIELDS) | set(config.objects)
    for match in string.Template.pattern.finditer(template):
        name = match.group("named") or match.group("braced")
        if name and name not in known:
            raise EngineError(f'the prompt template uses ${name}, which is neither an object of the label config '
                              f"nor one of ${', $'.join(TEMPLATE_FIELDS)}")


def judge_version(settings: JudgeSettings) -> str:
    """The model version its predictions carry: the model and a digest of how it is asked, so a changed prompt
    is reported as another judge."""
    asked = json.dumps([settings.template or DEFAULT_TEMPLATE, settings.swap, SYSTEM_PROMPT])
    return f"{JUDGE_VERSION_PREFIX}{settings.model}:{hashlib.sha256(asked.encode()).hexdigest()[:8]}"[:200]


@dataclass
class LlmJudge:
    config: LabelConfig
    settings: JudgeSettings
    questions: list[Question] = field(init=False)

    def __post_init__(self):
        self.questions = judge_questions(self.config)
        if not self.questions:
            raise EngineError("the LLM judge answers <Pairwise>, <Rating> (not perItem) and <Choices> on text; "
                              "the label config has none")
        if any(q.control.name == CONFIDENCE_KEY for q in self.questions):
            raise EngineError(f'the LLM judge asks for its "{CONFIDENCE_KEY}" beside the answers: rename the control '
                              f'named "{CONFIDENCE_KEY}"')
        self.version = judge_version(self.settings)

    def predict(self, tasks: list[TaskInput]) -> list[Suggestion]:
        """One suggestion per task, asked side by side; a server that fails several tasks in a row is broken."""
        with ThreadPoolExecutor(max_workers=max(1, self.settings.concurrency)) as pool:
            suggestions = list(pool.map(self._judge_task, tasks))
        failed = [s for s in suggestions if s.error]
        if len(tasks) >= FAILURES_BEFORE_BROKEN and len(failed) == len(tasks):
            raise EngineError(f"the LLM judge answered nothing usable for {len(tasks)} tasks; first: {failed[0].error}")
        return suggestions

    def _judge_task(self, task: TaskInput) -> Suggestion:
        try:
            first = self._ask(task, swapped=False)
            second = self._ask(task, swapped=True) if self._swaps_anything() else None
        except BadAnswer as exc:
            return Suggestion(error=str(exc))
        return self._suggestion(first, second)

    def _swaps_anything(self) -> bool:
        return self.settings.swap and any(q.asked.swaps for q in self.questions)

    def _suggestion(self, first: dict, second: dict | None) -> Suggestion:
        result = [self._result_item(q, first[q.control.name], swapped=False) for q in self.questions]
        consistent = None
        if second is not None:
            consistent = all(
                self._value(q, first[q.control.name], False) == self._value(q, second[q.control.name], True)
                for q in self.questions if q.asked.swaps)
        confidence = first[CONFIDENCE_KEY]
        score = 0.0 if consistent is False else confidence / CONFIDENCE_LEVELS
        details = {"answers": [a for a in (first, second) if a is not None], "swap_consistent": consistent,
                   "confidence": confidence}
        return Suggestion(result=result, score=score, model_version=self.version, details=details)

    def _result_item(self, question: Question, answer: Any, *, swapped: bool) -> dict:
        control = question.control
        return {"from_name": control.name, "to_name": control.to_name, "type": control.result_type,
                "value": self._value(question, answer, swapped)}

    @staticmethod
    def _value(question: Question, answer: Any, swapped: bool) -> dict:
        return control_type(question.control.tag).judge_value(question.control, answer, swapped)

    def _ask(self, task: TaskInput, *, swapped: bool) -> dict:
        body = {
            "model": self.settings.model,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT},
                         {"role": "user", "content": self.prompt(task, swapped=swapped)}],
            "temperature": 0,
            "max_tokens": self.settings.max_tokens,
            **response_format(self.settings.structured_output, self.answer_schema()),
        }
        answer = self._service().post("/chat/completions", body)
        return self._checked(_message_content(answer, self.settings.url))

    def _service(self) -> JsonService:
        headers = {"Authorization": f"Bearer {self.settings.api_key}"} if self.settings.api_key else {}
        return JsonService("LLM judge", self.settings.url, timeout=self.settings.timeout, retries=self.settings.retries,
                           backoff=self.settings.backoff, headers=headers)

    def prompt(self, task: TaskInput, *, swapped: bool) -> str:
        texts = {name: self._object_text(name, task.data) for name in self.config.objects}
        texts = {name: text for name, text in texts.items() if text is not None}
        if swapped:
            for question in self.questions:
                first, second = question.asked.swaps or (None, None)
                if first in texts and second in texts:
                    texts[first], texts[second] = texts[second], texts[first]
        questions = "\n".join(f'- "{q.control.name}": {q.asked.text}' for q in self.questions)
        questions += f'\n- "{CONFIDENCE_KEY}": how sure you are of these answers, from 1 (a guess) to {CONFIDENCE_LEVELS} (certain)'
        fields = {
            **texts,
            "objects": "\n\n".join(f"### {name}\n{text}" for name, text in texts.items()),
            "questions": questions,
            "keys": ", ".join(f'"{key}"' for key in self._keys()),
        }
        return string.Template(self.settings.template or DEFAULT_TEMPLATE).safe_substitute(fields)

    def _object_text(self, name: str, data: dict) -> str | None:
        obj = self.config.objects[name]
        return object_type(obj.tag).judge_text(obj, data.get(obj.data_field))

    def _keys(self) -> list[str]:
        return [*(q.control.name for q in self.questions), CONFIDENCE_KEY]

    def answer_schema(self) -> dict:
        properties = {q.control.name: q.asked.schema for q in self.questions}
        properties[CONFIDENCE_KEY] = {"enum": list(range(1, CONFIDENCE_LEVELS + 1))}
        return {"type": "object", "properties": properties, "required": self._keys(), "additionalProperties": False}

    def _checked(self, content: str) -> dict:
        """The answer as a dict that fits the schema; BadAnswer naming the first key that does not."""
        answer = _json_object(content)
        schema = self.answer_schema()["properties"]
        for key in self._keys():
            if key not in answer:
                raise BadAnswer(f'LLM judge answered no "{key}"')
            if not _fits(schema[key], answer[key]):
                raise BadAnswer(f'LLM judge answered "{key}" with a value the question does not allow')
        return {key: answer[key] for key in self._keys()}


def response_format(style: str, schema: dict) -> dict:
    if style == JSON_SCHEMA:
        return {"response_format": {"type": "json_schema", "json_schema": {"name": "judgment", "strict": True, "schema": schema}}}
    if style == JSON_OBJECT:
        return {"response_format": {"type": "json_object", "schema": schema}}
    return {}


def _message_content(answer: Any, url: str) -> str:
    try:
        content = answer["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise BadAnswer(f"LLM judge {url} answered no choices[0].message.content (is it an OpenAI-compatible "
                        "/chat/completions endpoint?)") from None
    if not isinstance(content, str):
        raise BadAnswer("LLM judge answered a message with no text content")
    return content


def _json_object(content: str) -> dict:
    """The JSON object of the answer; a prompt-only server may wrap it in prose or a ``` fence."""
    try:
        answer = json.loads(content)
    except ValueError:
        found = re.search(r"\{.*\}", content, re.DOTALL)
        try:
            answer = json.loads(found.group(0)) if found else None
        except ValueError:
            answer = None
    if not isinstance(answer, dict):
        raise BadAnswer("LLM judge answered something that is not a JSON object")
    return answer


def _fits(schema: dict, value: Any) -> bool:
    """The small part of JSON Schema the judge questions use: enum, and arrays of unique enum items."""
    if "enum" in schema:
        return any(value == allowed and type(value) is type(allowed) for allowed in schema["enum"])
    if schema.get("type") == "array":
        return (isinstance(value, list) and len(set(map(str, value))) == len(value)
                and all(_fits(schema["items"], item) for item in value))
    return False
