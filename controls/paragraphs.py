"""<Paragraphs>: a chat transcript (a list of messages, each with its speaker and its text), shown message by message."""
from projects.control_types import LabelConfigError, ObjectTag, ObjectType, ResultError, ReviewPiece, register_object

from .text import MARKDOWN_ASSETS

LAYOUTS = ("dialogue", "none")
# Label Studio's defaults; OpenAI-style chat data sets nameKey="role" textKey="content".
DEFAULT_NAME_KEY, DEFAULT_TEXT_KEY = "author", "text"


@register_object
class Paragraphs(ObjectType):
    tag = "Paragraphs"
    kind = "paragraphs"
    js_module = "objects/paragraphs.js"
    # Message contents are model text: rendered as sanitised Markdown, in bubbles styled by role.
    assets = (*MARKDOWN_ASSETS, "frontend/css/paragraphs.css")

    def parse_attributes(self, element, name: str) -> dict:
        layout = element.get("layout", "none")
        if layout not in LAYOUTS:
            raise LabelConfigError(f'<Paragraphs name="{name}"> layout="{layout}" must be "dialogue" or "none"')
        name_key = _key_attribute(element, name, "nameKey", DEFAULT_NAME_KEY)
        text_key = _key_attribute(element, name, "textKey", DEFAULT_TEXT_KEY)
        if name_key == text_key:
            raise LabelConfigError(f'<Paragraphs name="{name}"> nameKey and textKey are both "{name_key}"; they must differ')
        return {"options": {"layout": layout, "name_key": name_key, "text_key": text_key}}

    def validate_data(self, obj: ObjectTag, value: object) -> None:
        name_key, text_key = obj.options["name_key"], obj.options["text_key"]
        where = f'task data "{obj.data_field}"'
        if not isinstance(value, list):
            raise ResultError(f'{where} must be a list of messages like [{{"{name_key}": "user", "{text_key}": "..."}}] '
                              f'for <Paragraphs name="{obj.name}">, not {type(value).__name__}')
        if not value:
            raise ResultError(f"{where} has no messages")
        for index, message in enumerate(value):
            _check_message(f"{where}[{index}]", message, name_key, text_key, obj.name)

    def review_display(self, obj: ObjectTag, task_data: dict, pieces: list[ReviewPiece]) -> dict:
        """The transcript as bubbles headed by the speaker (the page's JS styles them by speaker and renders the
        text as sanitised Markdown, as on the labeling page; plain text without it)."""
        shown = [{"speaker": name, "text": text} for name, text in messages(obj, task_data.get(obj.data_field))]
        return {"kind": "dialogue", "name": obj.name, "layout": obj.options["layout"], "messages": shown}

    def review_assets(self, obj: ObjectTag) -> tuple[str, ...]:
        return self.assets

    def cell_example(self, obj: ObjectTag) -> str:
        name_key, text_key = obj.options["name_key"], obj.options["text_key"]
        return f'[{{"{name_key}": "user", "{text_key}": "Hi"}}, {{"{name_key}": "assistant", "{text_key}": "Hello!"}}]'

    def judge_text(self, obj: ObjectTag, value: object) -> str:
        return "\n\n".join(f"{name}: {text}" for name, text in messages(obj, value))


def messages(obj: ObjectTag, value: object) -> list[tuple[str, str]]:
    """(speaker, text) of each well-formed message of the object's task value."""
    name_key, text_key = obj.options["name_key"], obj.options["text_key"]
    return [(str(message.get(name_key, "")), str(message.get(text_key, "")))
            for message in (value if isinstance(value, list) else []) if isinstance(message, dict)]


def _key_attribute(element, name: str, attribute: str, default: str) -> str:
    key = element.get(attribute, default).strip()
    if not key:
        raise LabelConfigError(f'<Paragraphs name="{name}"> {attribute}="" must name a key of the messages')
    return key


def _check_message(where: str, message: object, name_key: str, text_key: str, object_name: str) -> None:
    if not isinstance(message, dict):
        raise ResultError(f'{where} must be a message object with "{name_key}" and "{text_key}", not {type(message).__name__}')
    for key, attribute in ((name_key, "nameKey"), (text_key, "textKey")):
        if key not in message:
            raise ResultError(f'{where} has no "{key}" ({attribute} of <Paragraphs name="{object_name}">)')
        if not isinstance(message[key], str):
            raise ResultError(f'{where}.{key} must be a string, not {type(message[key]).__name__}')
