"""<Pairwise>: which of two texts is better (left = the first object of toName, right = the second), or a tie."""
from projects.control_types import (AgreementTally, ControlTag, ControlType, JudgeQuestion, LabelConfigError, ObjectTag,
                                    ResultError, ReviewPiece, item_value, percent, register_control)
from quality.engine import MergeOptions, TaskConsensus, result_item
from quality.engine.pairwise import PAIRWISE_ANSWERS, aggregate_pairwise, position_bias
from quality.engine.ties import stable_seed

SIDES = ("left", "right")
TIE = "tie"
# The keys its page module binds (left, right, tie, in display order); other controls' default keys skip them.
PAGE_KEYS = ("1", "2", "t")
DIFF_KEY = "d"  # shows the word-level diff of the two texts


@register_control
class Pairwise(ControlType):
    tag = "Pairwise"
    result_type = "pairwise"
    object_kinds = frozenset({"text"})
    js_module = "controls/pairwise.js"
    compares_models = True

    def parse_attributes(self, element, name: str) -> dict:
        objects = [part.strip() for part in element.get("toName", "").split(",") if part.strip()]
        if len(objects) != 2:
            raise LabelConfigError(f'<Pairwise name="{name}"> toName="{element.get("toName", "")}" must name exactly '
                                   f"two objects to compare, like toName=\"a,b\" (it names {len(objects)})")
        return {"options": {"allow_tie": _allows_tie(element, name)}}

    def validate_value(self, control: ControlTag, value: dict, objects: list[ObjectTag], task_data: dict) -> None:
        selected = value.get("selected")
        allowed = answers_of(control)
        if selected not in allowed:
            shown = repr(selected) if isinstance(selected, (str, int, float, bool)) or selected is None else "that"
            no_tie = "" if control.options["allow_tie"] else ' (a tie needs allowTie="true" in the label config)'
            raise ResultError(f"value.selected {shown} is not an answer of {control.name}: {_listed(allowed)}{no_tie}")

    def required_on_page_by_default(self, control: ControlTag) -> bool:
        """A comparison submitted with no preference is a slip: the comparison is the whole task."""
        return True

    def has_answer(self, value: dict) -> bool:
        return value.get("selected") in (*SIDES, TIE)

    def merge(self, control: dict, annotations, options: MergeOptions) -> TaskConsensus:
        return aggregate_pairwise(control, annotations, seed=options.seed, method=options.method,
                                  reliability=options.reliability, class_prior=options.class_prior)

    crowd_path = "value.selected"

    def crowd_classes(self, control: dict) -> tuple[str, ...]:
        """left, right and tie, a tie class even where the config allows none: the matrices `merge` reads are 3x3."""
        return PAIRWISE_ANSWERS

    def crowd_answer(self, item: dict) -> str | None:
        selected = item_value(item).get("selected")
        return selected if selected in PAIRWISE_ANSWERS else None

    def crowd_item(self, control: dict, answer: str, *, seed: int) -> dict:
        return result_item(control, "pairwise", {"selected": answer}, seed=seed, index=0)

    def agreement_tally(self, control: dict) -> "PairwiseTally":
        return PairwiseTally(control)

    def agreement_facts(self, summary: dict) -> list[tuple[str, str]]:
        return PairwiseTally.facts(summary)

    def review_pieces(self, item: dict) -> list[ReviewPiece]:
        """The object the annotator preferred, by its name ("a", "b"), or "tie"."""
        return [ReviewPiece("answers", item.get("from_name", ""), [_named_answer(item)])]

    def table_value(self, control: ControlTag, items: list[dict]):
        return items[0]["value"].get("selected")

    def presentation(self, control: ControlTag, task_id: int, user_id: int) -> dict:
        return {"swap": shows_swapped(task_id, user_id)}

    def page_keys(self, control: ControlTag) -> tuple[str, ...]:
        return (*(PAGE_KEYS if control.options.get("allow_tie") else PAGE_KEYS[:2]), DIFF_KEY)

    def judge_question(self, control: ControlTag) -> JudgeQuestion:
        """The judge names the better object ("a" or "b"), not a side: asked again with the two texts traded, the
        same name then means the other response, which is how a position-biased judge shows itself."""
        first, second = control.to_names
        tie = ', or "tie" when neither is better' if control.options["allow_tie"] else ""
        names = [first, second, *([TIE] if control.options["allow_tie"] else [])]
        return JudgeQuestion(f'which response is better, "{first}" or "{second}"{tie}', {"enum": names},
                             swaps=(first, second))

    def judge_value(self, control: ControlTag, answer, swapped: bool) -> dict:
        if answer == TIE:
            return {"selected": TIE}
        picked_first = (answer == control.to_names[0]) != swapped
        return {"selected": SIDES[0] if picked_first else SIDES[1]}


class PairwiseTally(AgreementTally):
    """Besides the mean per-task agreement: how often each answer was given (the share of ties), and the position
    bias, from what each annotator was shown (an answer names the task's order; the page swapped half the pairs)."""

    reads_annotations = True

    def __init__(self, control: dict):
        super().__init__(control)
        self.answers = dict.fromkeys(PAIRWISE_ANSWERS, 0)
        self.chose_shown_left = self.judgments = 0

    def add(self, task_id: int, annotations, merged) -> None:
        super().add(task_id, annotations, merged)
        for annotator, items in annotations or ():
            selected = next((item_value(item).get("selected") for item in items), None)
            if selected not in PAIRWISE_ANSWERS:
                continue
            self.answers[selected] += 1
            if selected in SIDES and annotator is not None:
                self.judgments += 1
                self.chose_shown_left += (selected == "left") != shows_swapped(task_id, annotator)

    def summary(self) -> dict:
        given = sum(self.answers.values())
        return {**super().summary(), "answers": {answer: self.answers[answer] for answer in PAIRWISE_ANSWERS},
                "tie_share": self.answers[TIE] / given if given else None,
                "position_bias": position_bias(self.chose_shown_left, self.judgments)}

    @staticmethod
    def facts(summary: dict) -> list[tuple[str, str]]:
        answers, bias = summary["answers"], summary["position_bias"]
        given = ", ".join(f"{answer} {answers[answer]}" for answer in PAIRWISE_ANSWERS)
        shown = (f"chose the response shown on the left in {percent(bias['share'])} of {bias['judgments']} left-or-right "
                 f"judgment{'' if bias['judgments'] == 1 else 's'} (95% interval {percent(bias['ci_low'])}–"
                 f"{percent(bias['ci_high'])}); 50% is no position bias") if bias["judgments"] else "no left-or-right judgments yet"
        return [*AgreementTally.facts(summary), ("answers", f"{given} (ties {percent(summary['tie_share'])})"),
                ("position bias", shown)]


def answers_of(control: ControlTag) -> tuple[str, ...]:
    return (*SIDES, TIE) if control.options.get("allow_tie") else SIDES


def shows_swapped(task_id: int, user_id: int) -> bool:
    """Whether this annotator sees this task's two objects the other way round: half of the (task, annotator)
    pairs are, by a hash that is the same on every request, server and run, so a reload shows the same order."""
    return stable_seed("pairwise", task_id, user_id) % 2 == 1


def _allows_tie(element, name: str) -> bool:
    raw = element.get("allowTie", "false").strip().lower()
    if raw not in {"true", "false"}:
        raise LabelConfigError(f'<Pairwise name="{name}"> allowTie="{element.get("allowTie")}" must be "true" or "false"')
    return raw == "true"


def _listed(answers: tuple[str, ...]) -> str:
    """"'left', 'right' or 'tie'"."""
    quoted = [repr(answer) for answer in answers]
    return f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _named_answer(item: dict) -> str:
    selected = item_value(item).get("selected")
    objects = str(item.get("to_name", "")).split(",")
    if selected in SIDES and len(objects) == 2:
        return objects[SIDES.index(selected)].strip()
    return str(selected)
