"""What every engine shares: the control it fills, the tasks it reads, and what it answers per task."""
from dataclasses import dataclass, field

from projects.label_config import LabelConfig


class EngineError(Exception):
    """The engine cannot run at all (not configured, not trained, backend down); the job fails with this."""


class NotEnoughLabels(EngineError):
    """A learned engine has too few labelled tasks to predict anything but noise."""


@dataclass(frozen=True)
class Target:
    """The control an engine fills and the object it reads."""

    control: str  # from_name
    to_name: str
    data_field: str
    result_type: str
    labels: tuple[str, ...]
    multiple: bool = False


@dataclass(frozen=True)
class TaskInput:
    id: int
    data: dict


@dataclass(frozen=True)
class LabelledText:
    """A training example for the text classifier: the text and its choices."""

    text: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class LabelledSpans:
    """A training example for the span tagger: the text and its (start, end, label) spans."""

    text: str
    spans: tuple[tuple[int, int, str], ...]


@dataclass
class Suggestion:
    """A prediction for one task, in Label Studio's format; `error` instead when that task failed."""

    result: list = field(default_factory=list)
    score: float | None = None
    model_version: str = ""
    error: str = ""
    details: dict = field(default_factory=dict)  # stored with the prediction (an LLM judge's answers)


def pick_target(config: LabelConfig, result_types: set[str], control: str = "") -> Target:
    """The named control, or the first of a type the engine fills; EngineError saying what fits otherwise."""
    fitting = [c for c in config.controls.values() if c.result_type in result_types]
    if control:
        fitting = [c for c in fitting if c.name == control]
    if not fitting:
        wanted = " or ".join(sorted(result_types))
        named = f'control "{control}" is not' if control else "no control is"
        raise EngineError(f"{named} of type {wanted} in the label config")
    chosen = fitting[0]
    obj = config.objects[chosen.to_names[0]]  # the first object named: a model reads one input
    return Target(
        control=chosen.name, to_name=chosen.to_name, data_field=obj.data_field, result_type=chosen.result_type,
        labels=chosen.values, multiple=chosen.multiple,
    )


def task_text(task: TaskInput, target: Target) -> str:
    """The text a text engine reads from a task; "" when the field is missing or not a string."""
    value = task.data.get(target.data_field)
    return value if isinstance(value, str) else ""


def overall_score(item_scores: list[float]) -> float | None:
    """A prediction is as confident as its least confident item."""
    return min(item_scores) if item_scores else None
