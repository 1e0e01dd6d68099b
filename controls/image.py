"""<Image>: an image URL from the task's data, drawn with its boxes on the review page."""
from projects.control_types import ObjectTag, ObjectType, ReviewPiece, register_object


@register_object
class Image(ObjectType):
    tag = "Image"
    kind = "image"
    js_module = "objects/image.js"
    loads_url = True
    # Annotorious draws and edits the boxes on the labeling page.
    assets = ("frontend/vendor/annotorious/annotorious.css", "frontend/vendor/annotorious/annotorious.js")

    def judge_text(self, obj: ObjectTag, value) -> None:
        """A text-only judge cannot see an image, so the controls on it are left to people."""
        return None

    def review_display(self, obj: ObjectTag, task_data: dict, pieces: list[ReviewPiece]) -> dict:
        boxes = [piece.data for piece in pieces if piece.kind == "boxes"]
        return {"kind": "image", "name": obj.name, "url": task_data.get(obj.data_field), "boxes": boxes}
