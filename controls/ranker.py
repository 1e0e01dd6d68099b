"""<Ranker>: order the items of a <List>, as one ranking or spread over <Bucket name title> children."""
from projects.control_types import (AgreementTally, ControlTag, ControlType, ObjectTag, ResultError, ReviewPiece,
                                    figure, item_value, object_type, register_control)
from quality.engine import MergeOptions, TaskConsensus
from quality.engine.ranking import aggregate_ranking


@register_control
class Ranker(ControlType):
    tag = "Ranker"
    result_type = "ranker"
    object_kinds = frozenset({"list"})
    value_tag = "Bucket"
    value_attribute = "name"  # Label Studio's <Bucket name="best" title="Best answers"/>
    values_optional = True
    js_module = "controls/ranker.js"
    compares_models = True

    def page_keys(self, control: ControlTag) -> tuple[str, ...]:
        """Its move keys (K/J) and, without buckets, O to keep the order shown."""
        return ("k", "j") if control.values else ("k", "j", "o")

    def parse_attributes(self, element, name: str) -> dict:
        titles = {child.get("name", "").strip(): (child.get("title") or child.get("name", "")).strip()
                  for child in element}
        return {"options": {"bucket_titles": titles}} if titles else {}

    def required_on_page_by_default(self, control: ControlTag) -> bool:
        """The page shows the items in a starting order; submitting that untouched is rarely a judgment."""
        return False

    def validate_value(self, control: ControlTag, value: dict, objects: list[ObjectTag], task_data: dict) -> None:
        ranker = value.get("ranker")
        keys = list(control.values) or [control.name]
        if not isinstance(ranker, dict) or not ranker:
            raise ResultError(f"value.ranker must be an object: {_keys_wanted(control)}")
        for key, ids in ranker.items():
            if key not in keys:
                raise ResultError(f'value.ranker key "{key}" is not {_keys_wanted(control)}')
            if not isinstance(ids, list) or not all(isinstance(item, str) for item in ids):
                raise ResultError(f'value.ranker["{key}"] must be a list of item ids (strings)')
        if not control.values and control.name not in ranker:
            raise ResultError(f"value.ranker must have the key \"{control.name}\" (the control's name)")
        _check_every_item_once(control, [item for key in keys for item in ranker.get(key, [])], objects[0], task_data)

    def merge(self, control: dict, annotations, options: MergeOptions) -> TaskConsensus:
        return aggregate_ranking(control, annotations, seed=options.seed)

    def agreement_tally(self, control: dict) -> "RankerTally":
        return RankerTally(control)

    def agreement_facts(self, summary: dict) -> list[tuple[str, str]]:
        return RankerTally.facts(summary)

    def review_pieces(self, item: dict) -> list[ReviewPiece]:
        ranker = item_value(item).get("ranker") or {}
        shown = [f"{key}: {' > '.join(ids)}" for key, ids in ranker.items()] if len(ranker) > 1 else [
            f"{position}. {item_id}" for ids in ranker.values() for position, item_id in enumerate(ids, 1)]
        places = {item_id: place for place, item_id in enumerate(
            (item_id for ids in ranker.values() if isinstance(ids, list) for item_id in ids), 1)}
        return [ReviewPiece("answers", item.get("from_name", ""), shown),
                ReviewPiece("ranks", str(item.get("to_name", "")), places)]

    def table_value(self, control: ControlTag, items: list[dict]):
        """The ranking as its list of ids; with buckets, {bucket: [ids]}."""
        if not items:
            return None
        ranker = items[0]["value"].get("ranker") or {}
        return ranker if control.values else ranker.get(control.name)


class RankerTally(AgreementTally):
    """A task's agreement is its rankings' Kendall's W; the project's is their mean, and the mean share of the
    annotators' pairwise preferences the consensus order keeps (its confidence)."""

    def __init__(self, control: dict):
        super().__init__(control)
        self.left_out = 0

    def add(self, task_id: int, annotations, merged) -> None:
        super().add(task_id, annotations, merged)
        self.left_out += merged.details.get("left_out", 0)

    def summary(self) -> dict:
        summary = super().summary()
        return {**summary, "measure": "Kendall's W, mean over tasks", "kendalls_w": summary["mean_task_agreement"],
                "pairwise_support": summary["mean_confidence"], "rankings_left_out": self.left_out}

    @staticmethod
    def facts(summary: dict) -> list[tuple[str, str]]:
        tasks = summary["tasks"]
        facts = [("Kendall's W", f"{figure(summary['kendalls_w'])}, the mean over {tasks} task{'' if tasks == 1 else 's'} "
                                 "(1: every annotator ranked alike, 0: no concordance)"),
                 ("pairwise support", f"{figure(summary['pairwise_support'])} of the annotators' pairwise preferences "
                                      "kept by the consensus order, on average")]
        if summary["rankings_left_out"]:
            facts.append(("left out", f"{summary['rankings_left_out']} ranking(s) of another set of items"))
        return facts


def _keys_wanted(control: ControlTag) -> str:
    if control.values:
        return f"one key per bucket of {control.name} ({', '.join(control.values)})"
    return f'the key "{control.name}" (the control\'s name) with the ranked item ids'


def _check_every_item_once(control: ControlTag, ranked: list[str], target: ObjectTag, task_data: dict) -> None:
    """Every item of the list exactly once: a ranking that drops, repeats or invents an id is refused by it."""
    known = object_type(target.tag).item_ids(target, task_data)
    repeated = next((item for index, item in enumerate(ranked) if item in ranked[:index]), None)
    if repeated is not None:
        raise ResultError(f'{control.name} ranks "{repeated}" more than once; each item of {target.name} goes in once')
    invented = next((item for item in ranked if item not in known), None)
    if invented is not None:
        raise ResultError(f'{control.name} ranks "{invented}", which is not an item of {target.name} ({", ".join(known)})')
    dropped = [item for item in known if item not in ranked]
    if dropped:
        raise ResultError(f'{control.name} leaves out "{dropped[0]}": every item of {target.name} must be ranked')
