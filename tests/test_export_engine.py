"""The export engine on plain records, no database: CoNLL tokenisation, box geometry, streamed zips, labels."""
import io
import zipfile
from collections import Counter

import pytest

from exports.engine import FORMATS, ExportContext, StoredImage, write_to
from exports.engine.archive import LabelIds, ZipStream
from exports.engine.conll import tag_tokens
from exports.engine.results import Box, Span
from projects.label_config import parse_label_config
from tests.conftest import IMAGE_CONFIG, TEXT_CONFIG


def context_for(config: str, stored: dict[str, StoredImage] | None = None) -> ExportContext:
    return ExportContext(project_id=1, title="t", config=parse_label_config(config), stored_image=(stored or {}).get)


def image_task(task_id: int, url: str, boxes: list[dict], meta: dict | None = None) -> dict:
    result = [{"from_name": "box", "to_name": "image", "type": "rectanglelabels", "value": value} for value in boxes]
    return {"id": task_id, "data": {"image": url}, "meta": meta or {}, "annotations": [{"id": task_id, "origin": "annotation", "result": result}]}


def box_value(x, y, width, height, label="Face") -> dict:
    return {"x": x, "y": y, "width": width, "height": height, "rotation": 0, "rectanglelabels": [label]}


@pytest.mark.parametrize("text, spans, tags", [
    ("New York is big", [Span("LOC", 0, 8)], ["B-LOC", "I-LOC", "O", "O"]),
    ("in London's east", [Span("LOC", 3, 9)], ["O", "B-LOC", "O"]),  # a span inside a token tags the token
    ("in London's east", [Span("LOC", 5, 14)], ["O", "B-LOC", "I-LOC"]),  # starts and ends mid-token
    ("Ann  Bob", [Span("PER", 0, 3), Span("PER", 5, 8)], ["B-PER", "B-PER"]),  # adjacent entities stay apart
    ("a   b", [Span("X", 1, 4)], ["O", "O"]),  # only whitespace inside: nothing to tag
    ("Bank of Paris", [Span("LOC", 8, 13), Span("ORG", 0, 13)], ["B-ORG", "I-ORG", "I-ORG"]),  # overlap: first start wins
    ("", [Span("X", 0, 0)], []),
])
def test_conll_tokens_and_bio_tags(text, spans, tags):
    context = context_for(TEXT_CONFIG)

    tokens, got = tag_tokens(text, spans, context)

    assert tokens == text.split()
    assert got == tags


def test_conll_counts_the_overlapping_span_it_leaves_out():
    context = context_for(TEXT_CONFIG)

    tag_tokens("Bank of Paris", [Span("ORG", 0, 13), Span("LOC", 8, 13)], context)

    assert (context.counts["spans"], context.counts["spans_left_out_overlapping"]) == (1, 1)


def test_boxes_are_clipped_to_the_image():
    box = Box.from_percent("Face", x=90, y=-5, width=20, height=50)

    assert box.pixels(200, 100) == (180, 0, 20, 45)
    assert box.normalized_center() == (0.95, 0.225, 0.1, 0.45)


def test_label_ids_follow_the_config_and_append_unknown_labels():
    ids = LabelIds(["Face", "Person"], first=1)

    assert [ids.id_of("Person"), ids.id_of("Car"), ids.id_of("Face"), ids.id_of("Car")] == [2, 3, 1, 3]


def test_a_streamed_zip_is_a_valid_archive_with_large_entries():
    archive = ZipStream()
    pieces = [b"x" * 1000 for _ in range(100)]
    out = b"".join(archive.add_pieces("big.json", pieces))
    archive.add("small.txt", b"hello", compress=False)
    out += archive.close()

    with zipfile.ZipFile(io.BytesIO(out)) as opened:
        assert opened.read("big.json") == b"".join(pieces) and opened.read("small.txt") == b"hello"


def test_image_sizes_come_from_results_then_import_meta_then_the_stored_header():
    stored = StoredImage(name="s.png", read=lambda: b"\\x89PNG", size=lambda: (50, 40, 1))
    context = context_for(IMAGE_CONFIG, {"/data/upload/1/s.png": stored})
    sized = {**image_task(1, "https://x/a.jpg", [box_value(0, 0, 10, 10)])}
    sized["annotations"][0]["result"][0].update(original_width=300, original_height=200)
    tasks = [
        sized,
        image_task(2, "https://x/b.jpg", [box_value(0, 0, 10, 10)], meta={"image_width": 100, "image_height": 80}),
        image_task(3, "/data/upload/1/s.png", [box_value(0, 0, 10, 10)]),
        image_task(4, "https://x/unknown.jpg", [box_value(0, 0, 10, 10)]),
    ]

    out = io.BytesIO()
    write_to(out, FORMATS["VOC"].write(tasks, context))

    with zipfile.ZipFile(out) as opened:
        names = sorted(opened.namelist())
        assert names == ["Annotations/1-a.xml", "Annotations/2-b.xml", "Annotations/s.xml", "JPEGImages/s.png", "README.txt", "image_urls.csv"]
        assert b"<width>300</width>" in opened.read("Annotations/1-a.xml")
        assert b"<width>100</width>" in opened.read("Annotations/2-b.xml")
        assert b"<depth>1</depth>" in opened.read("Annotations/s.xml")
        assert "1 images were left out because their size is unknown" in opened.read("README.txt").decode()
    assert context.counts == Counter(images_included=1, images_referenced=2, images_left_out_unknown_size=1, boxes=3)


def test_unlabeled_tasks_stay_out_of_dataset_formats():
    context = context_for(IMAGE_CONFIG)
    unlabeled = {"id": 9, "data": {"image": "https://x/a.jpg"}, "meta": {}, "annotations": []}

    out = io.BytesIO()
    write_to(out, FORMATS["YOLO"].write([unlabeled], context))

    with zipfile.ZipFile(out) as opened:
        assert not [name for name in opened.namelist() if name.startswith("labels/")]
        assert "1 tasks without any annotation were left out" in opened.read("README.txt").decode()


def test_export_filters_survive_the_trip_through_a_jobs_json_params():
    from datetime import datetime, timezone

    from exports.selection import ExportFilters

    filters = ExportFilters(annotations="all", tasks="finished", min_agreement=0.5, annotator=7,
                            annotated_after=datetime(2026, 11, 1, tzinfo=timezone.utc), annotated_before=None)

    assert ExportFilters.from_json(filters.as_json()) == filters
