"""<RectangleLabels>: labeled boxes on an image, in percent of its size."""
from exports.engine.results import Box
from projects.control_types import (ControlTag, ControlType, ObjectTag, ResultError, ReviewPiece, check_label_values,
                                    is_number, item_value, register_control)
from quality.engine import MergeOptions, TaskConsensus
from quality.engine.boxes import aggregate_boxes

# Box coordinates are percentages; allow rounding noise from clients that compute them from pixels.
PERCENT_TOLERANCE = 1e-6
EDGES = ("x", "y", "width", "height")


@register_control
class RectangleLabels(ControlType):
    tag = "RectangleLabels"
    result_type = "rectanglelabels"
    object_kinds = frozenset({"image"})
    value_tag = "Label"
    js_module = "controls/rectanglelabels.js"
    region_kind = "boxes"

    def validate_value(self, control: ControlTag, value: dict, objects: list[ObjectTag], task_data: dict) -> None:
        check_label_values(control, value.get("rectanglelabels"), exactly_one=False)
        for key in EDGES:
            if not is_number(value.get(key)):
                raise ResultError(f"value.{key} must be a number (percent of the image)")
        x, y, width, height = (value[key] for key in EDGES)
        if width <= 0 or height <= 0:
            raise ResultError("box width and height must be positive")
        low, high = -PERCENT_TOLERANCE, 100 + PERCENT_TOLERANCE
        if x < low or y < low or x + width > high or y + height > high:
            raise ResultError(f"box x={x}, y={y}, width={width}, height={height} is outside the image (0-100%)")
        if "rotation" in value and not is_number(value["rotation"]):
            raise ResultError("value.rotation must be a number of degrees")

    def merge(self, control: dict, annotations, options: MergeOptions) -> TaskConsensus:
        return aggregate_boxes(control, annotations, seed=options.seed, iou_threshold=options.iou_threshold,
                               min_votes=options.min_votes, fusion=options.box_fusion)

    def review_pieces(self, item: dict) -> list[ReviewPiece]:
        value = item_value(item)
        box = {**{key: value.get(key, 0) for key in EDGES}, "label": ", ".join(value.get("rectanglelabels", []))}
        return [ReviewPiece("boxes", item.get("to_name", ""), box)]

    def regions(self, control: ControlTag, items: list[dict]) -> list[Box]:
        """A box with several labels counts once per label."""
        boxes = []
        for item in items:
            value = item["value"]
            for label in value.get("rectanglelabels") or []:
                boxes.append(Box.from_percent(
                    label, value["x"], value["y"], value["width"], value["height"],
                    item.get("original_width"), item.get("original_height"),
                ))
        return boxes
