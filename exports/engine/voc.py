"""Pascal VOC: a zip of `Annotations/NAME.xml` (size, and per box object/name and an integer-pixel bndbox)
with the images in `JPEGImages/`, the folder names VOC tools expect whatever the image type.

Pixel corners are rounded to the nearest integer and kept inside the image (0..width, 0..height).
"""
from typing import Iterable, Iterator
from xml.etree import ElementTree

from .archive import ImageArchive, TaskImage, task_images
from .context import ExportContext

ABOUT = """Pascal VOC export: Annotations/NAME.xml per image, images under JPEGImages/.
bndbox corners are integer pixels from the image's top-left corner."""


def write_voc(tasks: Iterable[dict], context: ExportContext) -> Iterator[bytes]:
    archive = ImageArchive(context, "JPEGImages")
    for image in task_images(tasks, context):
        if archive.skip_unsized(image):
            continue
        archive.add_image(image)
        archive.zip.add(f"Annotations/{image.stem}.xml", annotation_xml(image, context))
        context.counts["boxes"] += len(image.boxes)
        yield archive.zip.drain()
    yield from archive.finish(ABOUT)


def annotation_xml(image: TaskImage, context: ExportContext) -> bytes:
    root = ElementTree.Element("annotation")
    _text(root, "folder", "JPEGImages")
    _text(root, "filename", image.file_name)
    source = ElementTree.SubElement(root, "source")
    _text(source, "database", f"Labeler project {context.project_id}")
    _text(source, "annotation", "Labeler")
    _text(source, "image", image.url)
    size = ElementTree.SubElement(root, "size")
    for name, value in (("width", image.width), ("height", image.height), ("depth", image.depth)):
        _text(size, name, value)
    _text(root, "segmented", 0)
    for box in image.boxes:
        left, top, width, height = box.pixels(image.width, image.height)
        item = ElementTree.SubElement(root, "object")
        for name, value in (("name", box.label), ("pose", "Unspecified"), ("truncated", 0), ("difficult", 0)):
            _text(item, name, value)
        bndbox = ElementTree.SubElement(item, "bndbox")
        corners = (("xmin", left), ("ymin", top), ("xmax", left + width), ("ymax", top + height))
        for name, value in corners:
            _text(bndbox, name, round(value))
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _text(parent, tag: str, value) -> None:
    ElementTree.SubElement(parent, tag).text = str(value)
