"""Boxes on images (RectangleLabels): OpenCV's bundled detectors, mapped to the project's labels.

`face` is the frontal-face Haar cascade and `person` the HOG + linear SVM people detector; both ship inside the
opencv-python-headless wheel (pinned <5: OpenCV 5 dropped them), so nothing is downloaded. OpenCV is the
`vision` extra: `pip install labeler[vision]`.
"""
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .base import EngineError, Suggestion, Target, TaskInput, overall_score

DETECTOR_CLASSES = ("face", "person")
VERSION = "opencv-{opencv}-haar-face-hog-person"
MAX_SIDE = 1280  # larger images are scaled down first: the detectors' cost grows with the pixel count
ImageReader = Callable[[str], bytes]


def resolve_label_map(label_map: dict, labels: tuple[str, ...]) -> dict[str, str]:
    """Detector class -> project label. An empty map pairs classes and labels of the same name (any case)."""
    if not isinstance(label_map, dict) or not all(isinstance(label, str) for label in label_map.values()):
        raise EngineError('label_map must map detector classes to label names, e.g. {"face": "Face"}')
    if label_map:
        unknown = sorted(set(label_map) - set(DETECTOR_CLASSES))
        if unknown:
            raise EngineError(f"label_map names {unknown[0]!r}, which the detector does not find ({', '.join(DETECTOR_CLASSES)})")
        missing = sorted(set(label_map.values()) - set(labels))
        if missing:
            raise EngineError(f"label_map maps to {missing[0]!r}, which is not a label of the control ({', '.join(labels)})")
        return dict(label_map)
    by_name = {label.lower(): label for label in labels}
    mapped = {name: by_name[name] for name in DETECTOR_CLASSES if name in by_name}
    if not mapped:
        raise EngineError(
            f"none of the control's labels ({', '.join(labels)}) is a detector class ({', '.join(DETECTOR_CLASSES)}): "
            'set label_map, e.g. {"face": "%s"}' % labels[0]
        )
    return mapped


def _squash(weight: float, scale: float) -> float:
    """OpenCV gives unbounded detector margins; map them monotonically into 0..1 for ranking, not as probabilities."""
    return round(1 / (1 + math.exp(-scale * weight)), 4)


@dataclass
class Detector:
    target: Target
    label_map: dict[str, str]
    read_image: ImageReader
    version: str = ""

    def __post_init__(self):
        import cv2

        self._cv2 = cv2
        self.version = self.version or VERSION.format(opencv=cv2.__version__)
        self._face = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        self._people = cv2.HOGDescriptor()
        self._people.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def predict(self, tasks: list[TaskInput]) -> list[Suggestion]:
        return [self._predict_one(task) for task in tasks]

    def _predict_one(self, task: TaskInput) -> Suggestion:
        url = task.data.get(self.target.data_field) or ""
        try:
            image = self._decode(self.read_image(url))
        except (OSError, ValueError) as exc:
            return Suggestion(error=f"cannot read image {url!r}: {exc}")
        boxes = self.detect(image)
        height, width = image.shape[:2]
        items = [self._item(index, box, width, height) for index, box in enumerate(boxes)]
        return Suggestion(result=items, score=overall_score([item["score"] for item in items]), model_version=self.version)

    def _decode(self, content: bytes) -> np.ndarray:
        image = self._cv2.imdecode(np.frombuffer(content, dtype=np.uint8), self._cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError("not an image OpenCV can decode")
        return image

    def detect(self, image: np.ndarray) -> list[tuple[str, float, float, float, float, float]]:
        """(class, score, x, y, w, h) in the image's own pixels, for the mapped classes only."""
        cv2 = self._cv2
        height, width = image.shape[:2]
        factor = min(1.0, MAX_SIDE / max(height, width))
        small = cv2.resize(image, (round(width * factor), round(height * factor))) if factor < 1 else image
        found = []
        if "face" in self.label_map:
            gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
            rects, _, weights = self._face.detectMultiScale3(
                gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24), outputRejectLevels=True
            )
            found += [("face", _squash(float(w), 1.0), *rect) for rect, w in zip(rects, np.ravel(weights))]
        if "person" in self.label_map:
            rects, weights = self._people.detectMultiScale(small, winStride=(8, 8), padding=(8, 8), scale=1.05)
            found += [("person", _squash(float(w), 2.0), *rect) for rect, w in zip(rects, np.ravel(weights))]
        return [(name, score, x / factor, y / factor, w / factor, h / factor) for name, score, x, y, w, h in found]

    def _item(self, index: int, box, width: int, height: int) -> dict:
        name, score, x, y, w, h = box
        left, top = _percent(max(x, 0), width), _percent(max(y, 0), height)
        value = {
            "x": left, "y": top,
            # Rounded down and clipped, so the box never reaches past the image's edge by a rounding step.
            "width": min(_percent(w, width), round(100 - left, 3)), "height": min(_percent(h, height), round(100 - top, 3)),
            "rotation": 0, "rectanglelabels": [self.label_map[name]],
        }
        return {
            "id": f"box{index}", "from_name": self.target.control, "to_name": self.target.to_name,
            "type": "rectanglelabels", "original_width": width, "original_height": height, "image_rotation": 0,
            "value": value, "score": score,
        }


def _percent(pixels: float, size: int) -> float:
    return math.floor(100_000 * pixels / size) / 1000
