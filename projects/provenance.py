"""How much of a prediction an annotator kept: the measure behind "human effort saved".

Pure: compares two Label Studio result lists. Item ids, scores and the client's bookkeeping keys are ignored,
and coordinates are compared to 0.01 (a percent box re-serialised by a browser differs in the last digits).
"""
import json
from collections import Counter

IGNORED_KEYS = {"id", "score", "origin", "parentID", "readonly", "hidden"}
COORDINATE_DIGITS = 2


def _canonical(item) -> str:
    if not isinstance(item, dict):
        return json.dumps(item, sort_keys=True, default=str)
    kept = {key: value for key, value in item.items() if key not in IGNORED_KEYS}
    return json.dumps(_rounded(kept), sort_keys=True, default=str)


def _rounded(value):
    if isinstance(value, float):
        return round(value, COORDINATE_DIGITS)
    if isinstance(value, dict):
        return {key: _rounded(inner) for key, inner in value.items() if key not in IGNORED_KEYS}
    if isinstance(value, list):
        return [_rounded(inner) for inner in value]
    return value


def share_changed(predicted: list, submitted: list) -> float:
    """0.0 when the annotator submitted the prediction as it was, 1.0 when nothing of it survived: the share of
    result items (of the larger list) that are not matched one-to-one by an equal item in the other list."""
    predicted, submitted = predicted or [], submitted or []
    larger = max(len(predicted), len(submitted))
    if larger == 0:
        return 0.0
    kept = sum((Counter(map(_canonical, predicted)) & Counter(map(_canonical, submitted))).values())
    return round(1 - kept / larger, 4)
