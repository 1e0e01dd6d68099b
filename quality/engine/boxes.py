"""Per-task consensus for rectangles: match boxes across annotators by IoU, fuse each match, vote its label, and
measure agreement as pairwise F1 at the IoU threshold plus the mean IoU of matched boxes."""
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .outcome import Annotations, TaskConsensus, result_item
from .ties import TIE_RULE_NAMES, break_ties, stable_seed

COORDINATES = ("x", "y", "width", "height")


@dataclass(frozen=True)
class Boxes:
    """All boxes of one task: corners (n, 4) as x1, y1, x2, y2 in percent, who drew each, its label."""

    corners: np.ndarray
    owner: np.ndarray
    label: list[str]
    rotation: np.ndarray


def iou_matrix(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """IoU of every box in `first` (n, 4 corners) with every box in `second` (m, 4). Percent or pixels alike:
    IoU does not change when each axis is scaled."""
    low = np.maximum(first[:, None, :2], second[None, :, :2])
    high = np.minimum(first[:, None, 2:], second[None, :, 2:])
    overlap = np.clip(high - low, 0, None).prod(axis=2)
    area_first = (first[:, 2:] - first[:, :2]).prod(axis=1)
    area_second = (second[:, 2:] - second[:, :2]).prod(axis=1)
    union = area_first[:, None] + area_second[None, :] - overlap
    return np.divide(overlap, union, out=np.zeros_like(overlap), where=union > 0)


def match_boxes_greedily(iou: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
    """One-to-one matches between two annotators' boxes, best IoU first, each at least `threshold`.
    Greedy rather than Hungarian: with boxes that overlap at IoU >= 0.5 the two almost never differ."""
    order = np.argsort(-iou, axis=None, kind="stable")
    used_rows, used_columns, matches = set(), set(), []
    for row, column in zip(*np.unravel_index(order, iou.shape)):
        if iou[row, column] < threshold:
            break
        if row not in used_rows and column not in used_columns:
            used_rows.add(row)
            used_columns.add(column)
            matches.append((int(row), int(column), float(iou[row, column])))
    return matches


def cluster_boxes(boxes: Boxes, threshold: float) -> list[list[int]]:
    """Group boxes that show one object: average-linkage merging by IoU, never two boxes of one annotator in a
    group (an annotator who drew two boxes over one object votes once for it)."""
    iou_sum = iou_matrix(boxes.corners, boxes.corners)
    owners = (boxes.owner[:, None] == np.unique(boxes.owner)[None, :]).astype(np.int64)
    clusters = [[index] for index in range(len(boxes.owner))]
    alive = np.ones(len(clusters), dtype=bool)
    while True:
        sizes = np.array([len(members) for members in clusters], dtype=float)
        linkage = iou_sum / np.outer(sizes, sizes)
        allowed = (owners @ owners.T == 0) & alive[:, None] & alive[None, :]
        linkage = np.where(allowed, linkage, -1.0)
        keep, merge = np.unravel_index(np.argmax(linkage), linkage.shape)
        if linkage[keep, merge] < threshold:
            break
        clusters[keep] += clusters[merge]
        iou_sum[keep, :] += iou_sum[merge, :]
        iou_sum[:, keep] += iou_sum[:, merge]
        owners[keep] += owners[merge]
        alive[merge] = False
    return [sorted(members) for members, live in zip(clusters, alive) if live]


def aggregate_boxes(control: dict, annotations: Annotations, *, seed: int, iou_threshold: float = 0.5,
                    min_votes: int | None = None, fusion: str = "median") -> TaskConsensus:
    """Keep an object when at least `min_votes` annotators drew it (default: a strict majority of the task's
    annotators, counting those who drew nothing); its box is the per-edge median (or mean) of the matched boxes,
    its label the vote (ties by the seeded draw). Rotation is ignored for matching and fused as a median."""
    annotator_count = len(annotations)
    boxes = _collect_boxes(annotations)
    needed = min_votes if min_votes is not None else annotator_count // 2 + 1
    clusters = cluster_boxes(boxes, iou_threshold) if len(boxes.owner) else []
    kept = sorted((members for members in clusters if len(members) >= needed),
                  key=lambda members: tuple(np.median(boxes.corners[members], axis=0)))
    sizes = _original_size(annotations)
    result, box_details = [], []
    for index, members in enumerate(kept):
        label, tie = _vote_label([boxes.label[member] for member in members], stable_seed(seed, index))
        value = _fused_value(boxes, members, fusion) | {"rectanglelabels": [label] if label else []}
        result.append(result_item(control, "rectanglelabels", value, seed=seed, index=index, **sizes))
        box_details.append({"votes": len(members), "label_tie": tie})
    agreement, mean_iou, per_label = pairwise_box_agreement(boxes, annotations, iou_threshold)
    matched = sum(len(members) for members in clusters if len(members) > 1)
    details = {"min_votes": needed, "kept_boxes": len(kept), "dropped_boxes": len(clusters) - len(kept),
               "matched_share": matched / len(boxes.owner) if len(boxes.owner) else None,
               "mean_iou": mean_iou, "per_label": per_label, "boxes": box_details}
    confidence = float(np.mean([len(members) / annotator_count for members in kept])) if kept else None
    return TaskConsensus(result, agreement, confidence, "box_matching", details, annotator_count)


def pairwise_box_agreement(boxes: Boxes, annotations: Annotations,
                           threshold: float) -> tuple[float | None, float | None, dict[str, float]]:
    """Mean over annotator pairs of F1@threshold (a match needs the same label; two empty answers agree), the
    mean IoU of all matched pairs, and per label the F1 over the pairs where at least one used that label."""
    used = [{label for label, owner in zip(boxes.label, boxes.owner) if owner == position}
            for position in range(len(annotations))]
    f1_scores, matched_ious = [], []
    f1_by_label: dict[str, list[float]] = {}
    for first, second in combinations(range(len(annotations)), 2):
        score, ious = _pair_f1(boxes, first, second, threshold, None)
        f1_scores.append(score)
        matched_ious += ious
        for label in sorted(used[first] | used[second]):
            f1_by_label.setdefault(label, []).append(_pair_f1(boxes, first, second, threshold, label)[0])
    return (float(np.mean(f1_scores)) if f1_scores else None,
            float(np.mean(matched_ious)) if matched_ious else None,
            {label: float(np.mean(scores)) for label, scores in sorted(f1_by_label.items())})


def _pair_f1(boxes: Boxes, first: int, second: int, threshold: float, label: str | None) -> tuple[float, list[float]]:
    def select(owner: int) -> np.ndarray:
        return np.flatnonzero((boxes.owner == owner) & ((label is None) | (np.array(boxes.label) == label)))

    mine, theirs = select(first), select(second)
    if not len(mine) and not len(theirs):
        return 1.0, []
    iou = iou_matrix(boxes.corners[mine], boxes.corners[theirs])
    same_label = np.array(boxes.label)[mine][:, None] == np.array(boxes.label)[theirs][None, :]
    matches = match_boxes_greedily(np.where(same_label, iou, 0.0), threshold)
    return 2 * len(matches) / (len(mine) + len(theirs)), [match[2] for match in matches]


def _collect_boxes(annotations: Annotations) -> Boxes:
    corners, owner, label, rotation = [], [], [], []
    for position, (_, items) in enumerate(annotations):
        for item in items:
            value = item.get("value", {})
            if not all(key in value for key in COORDINATES):
                continue
            x, y, width, height = (float(value[key]) for key in COORDINATES)
            corners.append((x, y, x + width, y + height))
            owner.append(position)
            label.append((value.get("rectanglelabels") or [""])[0])
            rotation.append(float(value.get("rotation", 0.0)))
    return Boxes(np.array(corners, dtype=float).reshape(-1, 4), np.array(owner, dtype=np.int64), label,
                 np.array(rotation, dtype=float))


def _fused_value(boxes: Boxes, members: list[int], fusion: str) -> dict:
    combine = {"median": np.median, "mean": np.mean}[fusion]
    x1, y1, x2, y2 = (float(edge) for edge in combine(boxes.corners[members], axis=0))
    return {"x": x1, "y": y1, "width": x2 - x1, "height": y2 - y1,
            "rotation": float(np.median(boxes.rotation[members]))}


def _vote_label(labels: list[str], seed: int) -> tuple[str, dict | None]:
    candidates = sorted(set(labels))
    counts = np.array([[labels.count(candidate) for candidate in candidates]], dtype=float)
    winner, rule = break_ties(counts, np.array([seed]))
    tie = None
    if rule[0]:
        tie = {"between": [c for c, n in zip(candidates, counts[0]) if n == counts.max()],
               "broken_by": TIE_RULE_NAMES[int(rule[0])]}
    return candidates[int(winner[0])], tie


def _original_size(annotations: Annotations) -> dict:
    for _, items in annotations:
        for item in items:
            if "original_width" in item and "original_height" in item:
                return {"original_width": item["original_width"], "original_height": item["original_height"]}
    return {}
