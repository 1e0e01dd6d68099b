"""<List>: N candidate responses from the task's data, [{"id", "title", "body"}], for a Ranker or a Rating."""
from projects.control_types import ObjectTag, ObjectType, ResultError, ReviewPiece, register_object


@register_object
class List(ObjectType):
    tag = "List"
    kind = "list"
    js_module = "objects/list.js"

    def validate_data(self, obj: ObjectTag, value) -> None:
        """A non-empty list of objects, each with a unique non-blank string id, a string body and, optionally, a
        string title (other keys, say the `model` that wrote it, are kept as they are)."""
        where = f'task data "{obj.data_field}"'
        if not isinstance(value, list) or not value:
            raise ResultError(f'{where} must be a non-empty list of {{"id", "title", "body"}} objects')
        seen: set[str] = set()
        for index, entry in enumerate(value):
            _check_entry(f"{where}[{index}]", entry)
            if entry["id"] in seen:
                raise ResultError(f'{where}[{index}]: id "{entry["id"]}" is used by an earlier item; ids must be unique')
            seen.add(entry["id"])

    def review_display(self, obj: ObjectTag, task_data: dict, pieces: list[ReviewPiece]) -> dict:
        """The candidates as cards (title, id, body as plain text, as the labeling page shows it), each with the
        place a ranking gave it and the ratings it got in the result shown."""
        ranks = {item: place for piece in pieces if piece.kind == "ranks" for item, place in piece.data.items()}
        ratings: dict[str, list[str]] = {}
        for piece in pieces:
            if piece.kind == "ratings":
                for item, shown in piece.data.items():
                    ratings.setdefault(item, []).append(shown)
        cards = [{"id": entry.get("id"), "title": entry.get("title") or "", "body": entry.get("body", ""),
                  "rank": ranks.get(entry.get("id")), "ratings": ratings.get(entry.get("id"), [])}
                 for entry in list_items(task_data, obj.data_field)]
        return {"kind": "cards", "name": obj.name, "cards": cards}

    def review_assets(self, obj: ObjectTag) -> tuple[str, ...]:
        return ("frontend/css/objects/list.css",)

    def cell_example(self, obj: ObjectTag) -> str:
        return '[{"id": "r1", "title": "model-x", "body": "..."}, {"id": "r2", "title": "model-y", "body": "..."}]'

    def judge_text(self, obj: ObjectTag, value) -> str:
        """Each candidate headed by its id (its title may name the model that wrote it, which a judge must not see)."""
        items = [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []
        return "\n\n".join(f"[{entry.get('id')}]\n{entry.get('body', '')}" for entry in items)

    def item_ids(self, obj: ObjectTag, task_data: dict) -> list[str]:
        """The ids of the task's items, in the task's order: what a Ranker or a per-item Rating refers to."""
        return [entry.get("id") for entry in list_items(task_data, obj.data_field)]


def _check_entry(where: str, entry) -> None:
    if not isinstance(entry, dict):
        raise ResultError(f'{where} must be an object with "id", "title" and "body"')
    if not isinstance(entry.get("id"), str) or not entry["id"].strip():
        raise ResultError(f'{where} needs an "id" that is a non-blank string')
    if not isinstance(entry.get("body"), str):
        raise ResultError(f'{where} ("{entry["id"]}") needs a "body" string')
    if "title" in entry and not isinstance(entry["title"], str):
        raise ResultError(f'{where} ("{entry["id"]}"): "title" must be a string')


def list_items(task_data: dict, field: str) -> list[dict]:
    """The task's well-formed list items (validate_data has refused any other on import)."""
    value = task_data.get(field)
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []
