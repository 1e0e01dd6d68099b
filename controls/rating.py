"""<Rating>: 1 to maxRating stars for the whole object, or with perItem="true" one rating per item of a <List>."""
from projects.control_types import (AgreementTally, ControlTag, ControlType, JudgeQuestion, LabelConfigError, ObjectTag,
                                    ResultError, ReviewPiece, figure, item_value, object_type, register_control)
from quality.engine import MergeOptions, TaskConsensus
from quality.engine.rating import aggregate_rating, rating_alpha

DEFAULT_MAX_RATING = 5
MAX_RATING_LIMIT = 10  # a number key per star; wider scales are sliders, another tag


@register_control
class Rating(ControlType):
    tag = "Rating"
    result_type = "rating"
    object_kinds = frozenset({"text", "list", "image"})
    js_module = "controls/rating.js"
    compares_models = True

    def parse_attributes(self, element, name: str) -> dict:
        raw = (element.get("maxRating") or str(DEFAULT_MAX_RATING)).strip()
        if not raw.isdigit() or not 2 <= int(raw) <= MAX_RATING_LIMIT:
            raise LabelConfigError(
                f'<Rating name="{name}"> maxRating="{raw}" must be a whole number from 2 to {MAX_RATING_LIMIT} (5, 7 or 10)')
        per_item = (element.get("perItem") or "false").strip().lower()
        if per_item not in {"true", "false"}:
            raise LabelConfigError(f'<Rating name="{name}"> perItem="{element.get("perItem")}" must be "true" or "false"')
        return {"options": {"max_rating": int(raw), "per_item": per_item == "true"}}

    def page_keys(self, control: ControlTag) -> tuple[str, ...]:
        """The number keys of its scale (0 is 10), so other controls' default keys leave them to it."""
        return tuple("1234567890"[: control.options["max_rating"]])

    def check_targets(self, control: ControlTag, objects: list[ObjectTag]) -> None:
        if control.options["per_item"] and (len(objects) != 1 or objects[0].kind != "list"):
            raise LabelConfigError(f'<Rating name="{control.name}"> perItem="true" needs a toName naming one <List>')

    def validate_value(self, control: ControlTag, value: dict, objects: list[ObjectTag], task_data: dict) -> None:
        top = control.options["max_rating"]
        rating = value.get("rating")
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= top:
            raise ResultError(f"value.rating must be a whole number from 1 to {top} (maxRating), not {rating!r}")

    def validate_items(self, control: ControlTag, items: list[dict], objects: list[ObjectTag], task_data: dict) -> None:
        """Without perItem one rating and no item_index; with it, each rating names a list item, each item once."""
        if not control.options["per_item"]:
            if any("item_index" in item for item in items):
                raise ResultError(f'{control.name}: item_index is only for a Rating with perItem="true"')
            if len(items) > 1:
                raise ResultError(f"{control.name} takes one rating, got {len(items)}")
            return
        known = object_type(objects[0].tag).item_ids(objects[0], task_data)
        rated: set[str] = set()
        for item in items:
            index = item.get("item_index")
            if index not in known:
                raise ResultError(f"{control.name}: item_index {index!r} must be the id of an item of "
                                  f"{objects[0].name} ({', '.join(known)})")
            if index in rated:
                raise ResultError(f'{control.name} rates "{index}" twice; one rating per item')
            rated.add(index)

    def merge(self, control: dict, annotations, options: MergeOptions) -> TaskConsensus:
        own = control.get("options") or {}
        return aggregate_rating(control, annotations, seed=options.seed,
                                max_rating=own.get("max_rating", DEFAULT_MAX_RATING), per_item=own.get("per_item", False))

    def judge_question(self, control: ControlTag) -> JudgeQuestion | None:
        """A whole-object rating; per-item ratings are left to people (their items differ task by task)."""
        if control.options["per_item"]:
            return None
        top = control.options["max_rating"]
        return JudgeQuestion(f'rate "{control.to_names[0]}" from 1 (worst) to {top} (best)', {"enum": list(range(1, top + 1))})

    def judge_value(self, control: ControlTag, answer, swapped: bool) -> dict:
        return {"rating": answer}

    def agreement_tally(self, control: dict) -> "RatingTally":
        return RatingTally(control)

    def agreement_facts(self, summary: dict) -> list[tuple[str, str]]:
        return RatingTally.facts(summary)

    def review_pieces(self, item: dict) -> list[ReviewPiece]:
        rating = item_value(item).get("rating")
        shown = f"{item['item_index']}: {rating} ★" if "item_index" in item else f"{rating} ★"
        pieces = [ReviewPiece("answers", item.get("from_name", ""), [shown])]
        if isinstance(item.get("item_index"), str):
            pieces.append(ReviewPiece("ratings", str(item.get("to_name", "")), {item["item_index"]: f"{rating} ★"}))
        return pieces

    def table_value(self, control: ControlTag, items: list[dict]):
        """The rating; with perItem, {item id: rating}."""
        if control.options["per_item"]:
            return {item.get("item_index"): item["value"].get("rating") for item in items}
        return items[0]["value"].get("rating") if items else None


class RatingTally(AgreementTally):
    """Krippendorff's interval alpha over the whole project: every rated unit (a task, or a list item of a task)
    is one unit, so the expected disagreement comes from all the ratings pooled, not one task's few. Also the
    mean rating and how often each star was given."""

    def __init__(self, control: dict):
        super().__init__(control)
        self.max_rating = (control.get("options") or {}).get("max_rating", DEFAULT_MAX_RATING)
        self.units: list[list[int]] = []

    def add(self, task_id: int, annotations, merged) -> None:
        super().add(task_id, annotations, merged)
        self.units += [unit["ratings"] for unit in merged.details.get("units", {}).values()]

    def summary(self) -> dict:
        stars = dict.fromkeys(range(1, self.max_rating + 1), 0)
        for ratings in self.units:
            for rating in ratings:
                stars[rating] = stars.get(rating, 0) + 1
        given = sum(stars.values())
        return {**super().summary(), "measure": "Krippendorff's alpha (interval) over the project",
                "alpha": rating_alpha(self.units, self.max_rating) if self.units else None,
                "units": len(self.units), "ratings": given, "max_rating": self.max_rating,
                "mean_rating": sum(r * n for r, n in stars.items()) / given if given else None,
                "distribution": {str(r): stars[r] for r in range(1, self.max_rating + 1)}}

    @staticmethod
    def facts(summary: dict) -> list[tuple[str, str]]:
        stars = ", ".join(f"{stars} ★ {count}" for stars, count in summary["distribution"].items())
        return [*AgreementTally.facts(summary),
                ("Krippendorff's alpha", f"{figure(summary['alpha'])} (interval, over {summary['units']} rated unit"
                                         f"{'' if summary['units'] == 1 else 's'} of the whole project)"),
                ("ratings", f"{summary['ratings']}, mean {figure(summary['mean_rating'], 2)} of {summary['max_rating']}: {stars}")]
