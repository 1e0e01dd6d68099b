"""<Choices>: pick one value (or several, choice="multiple") for the whole object."""
from projects.control_types import (ControlTag, ControlType, JudgeQuestion, LabelConfigError, ObjectTag, ReviewPiece,
                                    check_label_values, item_value, register_control)
from quality.engine import MergeOptions, TaskConsensus, result_item
from quality.engine.choices import aggregate_multiple_choice, aggregate_single_choice

CHOICE_MODES = {"single", "single-radio", "multiple"}


@register_control
class Choices(ControlType):
    tag = "Choices"
    result_type = "choices"
    object_kinds = frozenset({"image", "paragraphs", "text"})
    value_tag = "Choice"
    js_module = "controls/choices.js"

    def parse_attributes(self, element, name: str) -> dict:
        mode = element.get("choice", "single")
        if mode not in CHOICE_MODES:
            raise LabelConfigError(f'<Choices name="{name}"> choice="{mode}" must be "single" or "multiple"')
        return {"multiple": mode == "multiple"}

    def required_on_page_by_default(self, control: ControlTag) -> bool:
        """A classification left blank is almost always a slip of the finger, and an empty result is easy to miss."""
        return not control.multiple

    def validate_value(self, control: ControlTag, value: dict, objects: list[ObjectTag], task_data: dict) -> None:
        check_label_values(control, value.get("choices"), exactly_one=not control.multiple)

    def merge(self, control: dict, annotations, options: MergeOptions) -> TaskConsensus:
        if control.get("multiple"):
            return aggregate_multiple_choice(control, annotations, seed=options.seed, method=options.method,
                                             reliability=options.reliability)
        return aggregate_single_choice(control, annotations, seed=options.seed, method=options.method,
                                       reliability=options.reliability, class_prior=options.class_prior)

    def judge_question(self, control: ControlTag) -> JudgeQuestion:
        listed = ", ".join(f'"{value}"' for value in control.values)
        about = f'"{control.to_names[0]}"'
        if control.multiple:
            return JudgeQuestion(f"the choices that apply to {about}, a list of any of {listed}",
                                 {"type": "array", "items": {"enum": list(control.values)}, "uniqueItems": True})
        return JudgeQuestion(f"the one choice that fits {about}: one of {listed}", {"enum": list(control.values)})

    def judge_value(self, control: ControlTag, answer, swapped: bool) -> dict:
        return {"choices": list(dict.fromkeys(answer)) if control.multiple else [answer]}

    crowd_path = "value.choices[0]"

    def crowd_classes(self, control: dict) -> tuple[str, ...]:
        """A single choice's values; a multiple choice is one yes/no per value, not one class."""
        return () if control.get("multiple") else tuple(control["values"])

    def crowd_answer(self, item: dict) -> str | None:
        chosen = item_value(item).get("choices")
        return chosen[0] if isinstance(chosen, list) and chosen else None

    def crowd_item(self, control: dict, answer: str, *, seed: int) -> dict:
        return result_item(control, "choices", {"choices": [answer]}, seed=seed, index=0)

    def review_pieces(self, item: dict) -> list[ReviewPiece]:
        return [ReviewPiece("answers", item.get("from_name", ""), item_value(item).get("choices", []))]

    def table_value(self, control: ControlTag, items: list[dict]):
        """A single choice as its string, a multiple choice as the list of what was picked."""
        choices = [choice for item in items for choice in item["value"].get("choices") or []]
        return choices if control.multiple else (choices[0] if choices else None)
