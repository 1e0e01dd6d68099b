"""YOLO detection, in the layout Ultralytics reads: `images/`, `labels/` (one `class cx cy w h` line per box,
fractions of the image), `classes.txt` and `data.yaml`.

Class ids follow the label config's order from 0. An image with no boxes gets an empty label file: it was
labeled, and nothing was there. Box rotation is not carried (YOLO's boxes are axis-aligned).
"""
from typing import Iterable, Iterator

import yaml

from .archive import ImageArchive, LabelIds, task_images
from .context import ExportContext

ABOUT = """YOLO export in Ultralytics' layout: images/NAME, labels/NAME.txt, classes.txt, data.yaml.
Train with: yolo detect train data=/absolute/path/to/data.yaml (train and val both point at images/;
split them as you need)."""
DATA_YAML_HEADER = "# Ultralytics dataset; paths are relative to this file's folder.\n"


def write_yolo(tasks: Iterable[dict], context: ExportContext) -> Iterator[bytes]:
    classes = LabelIds(context.box_control().values, first=0)
    archive = ImageArchive(context, "images")
    for image in task_images(tasks, context):
        archive.add_image(image)
        lines = [
            f"{classes.id_of(box.label)} " + " ".join(f"{value:.6f}" for value in box.normalized_center())
            for box in image.boxes
        ]
        archive.zip.add(f"labels/{image.stem}.txt", "".join(line + "\n" for line in lines).encode())
        context.counts["boxes"] += len(lines)
        yield archive.zip.drain()
    names = list(classes.ids)
    archive.zip.add("classes.txt", "".join(name + "\n" for name in names).encode())
    archive.zip.add("data.yaml", data_yaml(names).encode())
    yield from archive.finish(ABOUT)


def data_yaml(names: list[str]) -> str:
    # No `path:` key: Ultralytics then resolves train/val against the folder data.yaml sits in.
    body = {"train": "images", "val": "images", "nc": len(names), "names": dict(enumerate(names))}
    return DATA_YAML_HEADER + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)
