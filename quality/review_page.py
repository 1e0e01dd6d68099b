"""Turn result items into what the reviewer's page draws: each control's answers, and each object with the
regions pointing at it (highlighted text, boxes). Each control and object type says how it shows itself."""
from django.templatetags.static import static

from projects.control_types import ReviewPiece, control_type_for_result, object_type
from projects.label_config import ObjectTag


def describe(result: list, data: dict, objects: dict[str, ObjectTag]) -> dict:
    """One result (an annotation, the consensus) as {"answers": {control: [values]}, "objects": [displays]}."""
    answers: dict[str, list[str]] = {}
    pieces_by_object: dict[str, list[ReviewPiece]] = {}
    for piece in review_pieces(result):
        if piece.kind == "answers":
            answers.setdefault(piece.target, []).extend(piece.data)
        else:
            for name in piece.target.split(","):
                pieces_by_object.setdefault(name, []).append(piece)
    displays = [object_type(obj.tag).review_display(obj, data, pieces_by_object.get(name, []))
                for name, obj in objects.items()]
    return {"answers": answers, "objects": [display for display in displays if display is not None]}


def review_pieces(result: list) -> list[ReviewPiece]:
    """Every item's pieces, asked of the type its "type" names; items of no known type show nothing."""
    pieces = []
    for item in result or []:
        known = control_type_for_result(item.get("type")) if isinstance(item, dict) else None
        if known is not None:
            pieces.extend(known.review_pieces(item))
    return pieces


def review_assets(objects: dict[str, ObjectTag]) -> dict[str, list[str]]:
    """The static files the objects' displays need ({"css": urls, "js": urls}), each once, in config order."""
    paths = dict.fromkeys(path for obj in objects.values() for path in object_type(obj.tag).review_assets(obj))
    return {kind: [static(path) for path in paths if path.endswith(f".{kind}")] for kind in ("css", "js")}
