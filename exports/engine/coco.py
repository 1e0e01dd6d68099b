"""COCO object detection: a zip with `result.json` (what `pycocotools.coco.COCO` loads) and `images/`.

An image's id is its task's id, and category ids follow the label config's order from 1, so both stay the same
from one export to the next. Boxes are absolute pixels `[x, y, width, height]` from the top-left corner.
The JSON's `images` and `annotations` arrays grow side by side, so each is spooled and joined at the end.
"""
from datetime import datetime, timezone
from typing import Iterable, Iterator

from .archive import ImageArchive, JsonArraySpool, LabelIds, task_images
from .context import ExportContext
from .json_tasks import dumps

ABOUT = """COCO object detection export. result.json loads with pycocotools.coco.COCO("result.json").
Image ids are Labeler task ids; category ids follow the project's label config; bbox is [x, y, width, height]
in pixels. Images the project only references carry their URL as coco_url."""


def write_coco(tasks: Iterable[dict], context: ExportContext) -> Iterator[bytes]:
    categories = LabelIds(context.box_control().values, first=1)
    archive = ImageArchive(context, "images")
    images, annotations = JsonArraySpool(), JsonArraySpool()
    annotation_id = 0
    for image in task_images(tasks, context):
        if archive.skip_unsized(image):
            continue
        archive.add_image(image)
        entry = {"id": image.task_id, "file_name": archive.image_path(image), "width": image.width, "height": image.height}
        if image.stored is None:
            entry["coco_url"] = image.url
        images.append(entry)
        annotations.extend([
            _annotation(annotation_id + number, image.task_id, categories.id_of(box.label), box.pixels(image.width, image.height))
            for number, box in enumerate(image.boxes, start=1)
        ])
        annotation_id += len(image.boxes)
        context.counts["boxes"] += len(image.boxes)
        yield archive.zip.drain()
    yield from archive.zip.add_pieces("result.json", _result_json(context, images, annotations, categories))
    yield from archive.finish(ABOUT)


def _annotation(annotation_id: int, image_id: int, category_id: int, bbox: tuple[float, float, float, float]) -> dict:
    return {
        "id": annotation_id, "image_id": image_id, "category_id": category_id, "bbox": list(bbox),
        "area": bbox[2] * bbox[3], "iscrowd": 0, "segmentation": [],
    }


def _result_json(context: ExportContext, images: JsonArraySpool, annotations: JsonArraySpool, categories: LabelIds) -> Iterator[bytes]:
    info = {
        "description": f"Labeler project {context.project_id}: {context.title}",
        "contributor": "Labeler", "version": "1.0", "year": datetime.now(timezone.utc).year,
        "date_created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    yield b'{"info":' + dumps(info) + b',"licenses":[],"images":['
    yield from images.pieces()
    yield b'],"annotations":['
    yield from annotations.pieces()
    listed = [{"id": category_id, "name": label, "supercategory": ""} for label, category_id in categories.ids.items()]
    yield b'],"categories":' + dumps(listed) + b"}"
