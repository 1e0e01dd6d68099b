"""Each export format through GET /api/projects/{id}/export, checked with the tools its consumers use:
pycocotools, seqeval, pandas, Label Studio's own converter, and the YOLO/VOC layouts."""
import csv
import io
import json
import xml.etree.ElementTree as ElementTree

import pandas
import pytest
import yaml
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from seqeval.metrics import f1_score
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2

from projects.models import Task
from tests.conftest import IMAGE_CONFIG, TEXT_CONFIG
from tests.export_helpers import REFERENCED_URL, TEXTS, body_of, export, label_images, label_texts, unzip


@pytest.fixture
def texts(text_project, annotator, other_annotator):
    return label_texts(text_project, annotator, other_annotator)


@pytest.fixture
def images(image_project, annotator):
    return label_images(image_project, annotator)


def test_json_is_label_studio_tasks_with_every_annotation(manager, text_project, texts, annotator):
    response = export(manager, text_project, exportType="JSON")

    tasks = json.loads(body_of(response))
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith(f'attachment; filename="project-{text_project.pk}-json-')
    assert [task["id"] for task in tasks] == [texts[0].pk, texts[1].pk]  # the unlabelled task is left out
    first = tasks[0]
    assert first["data"] == {"text": TEXTS[0]}
    assert first["predictions"] == []
    assert [(a["completed_by"], a["origin"]) for a in first["annotations"]] == [(annotator.pk, "annotation"), (first["annotations"][1]["completed_by"], "annotation")]
    assert {"id", "result", "created_at", "lead_time"} <= set(first["annotations"][0])
    assert "consensus" not in first


def test_jsonl_is_one_task_per_line(manager, text_project, texts):
    lines = body_of(export(manager, text_project, exportType="jsonl")).decode().splitlines()

    assert [json.loads(line)["id"] for line in lines] == [texts[0].pk, texts[1].pk]


def convert_with_label_studio(json_export: bytes, config: str, folder, *formats: str) -> None:
    """Run Label Studio's own converter over our JSON export, into folder/<format lowercased>/."""
    from label_studio_sdk.converter import Converter

    path = folder / "export.json"
    path.write_bytes(json_export)
    converter = Converter(config=config, project_dir=str(folder), download_resources=False)
    for export_type in formats:
        converter.convert(str(path), str(folder / export_type.lower()), export_type, is_dir=False)


def test_label_studios_converter_reads_our_json(manager, text_project, texts, tmp_path):
    convert_with_label_studio(body_of(export(manager, text_project, exportType="JSON")), TEXT_CONFIG, tmp_path, "JSON_MIN", "CONLL2003")

    rows = json.loads((tmp_path / "json_min" / "result.json").read_text())
    assert len(rows) == 4  # Label Studio's JSON_MIN is one row per annotation
    assert {row["sentiment"] for row in rows} == {"Positive", "Neutral", "Negative"}
    assert "B-LOC" in (tmp_path / "conll2003" / "result.conll").read_text()


def test_label_studios_converter_reads_our_image_json(manager, image_project, images, tmp_path):
    convert_with_label_studio(body_of(export(manager, image_project, exportType="JSON")), IMAGE_CONFIG, tmp_path, "JSON_MIN", "COCO")

    rows = json.loads((tmp_path / "json_min" / "result.json").read_text())
    assert sorted(len(row.get("box", [])) for row in rows) == [0, 1, 2]
    coco = json.loads((tmp_path / "coco" / "result.json").read_text())
    assert sorted(category["name"] for category in coco["categories"]) == ["Face", "Person"]
    # Label Studio's COCO converts only boxes that carry original_width/height (the referenced image's here),
    # and it puts that box at the same pixels as ours.
    assert [annotation["bbox"] for annotation in coco["annotations"]] == [[160.0, 120.0, 320.0, 240.0]]


def test_coco_loads_in_pycocotools_with_pixel_boxes_and_scores_ap_1_against_itself(manager, image_project, images, tmp_path):
    files = unzip(body_of(export(manager, image_project, exportType="COCO")))
    (tmp_path / "result.json").write_bytes(files["result.json"])

    coco = COCO(str(tmp_path / "result.json"))

    wide, tall, street = images
    assert [(c["id"], c["name"]) for c in coco.loadCats(coco.getCatIds())] == [(1, "Face"), (2, "Person")]
    assert sorted(coco.getImgIds()) == [wide.pk, tall.pk, street.pk]
    boxes = {(a["image_id"], a["category_id"]): a["bbox"] for a in coco.loadAnns(coco.getAnnIds())}
    assert boxes == {
        (wide.pk, 1): [20.0, 20.0, 100.0, 40.0],  # 10%, 20%, 50% x 40% of 200 x 100 pixels
        (wide.pk, 2): [120.0, 0.0, 80.0, 100.0],
        (street.pk, 2): [160.0, 120.0, 320.0, 240.0],  # sizes from the result's original_width/height
    }
    assert coco.imgs[tall.pk]["width"] == 60 and coco.getAnnIds(imgIds=[tall.pk]) == []
    stored = coco.imgs[wide.pk]["file_name"]
    assert files[stored].startswith(b"\x89PNG")
    assert coco.imgs[street.pk]["coco_url"] == REFERENCED_URL
    assert "NOT included" in files["README.txt"].decode()
    assert list(csv.DictReader(io.StringIO(files["image_urls.csv"].decode()))) == [
        {"path": coco.imgs[street.pk]["file_name"], "url": REFERENCED_URL}]

    detections = coco.loadRes([{**a, "score": 1.0} for a in coco.loadAnns(coco.getAnnIds())])
    evaluation = COCOeval(coco, detections, "bbox")
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    assert evaluation.stats[0] == pytest.approx(1.0)


def test_coco_categories_and_image_ids_are_stable_across_exports(manager, image_project, images):
    first = json.loads(unzip(body_of(export(manager, image_project, exportType="COCO")))["result.json"])
    Task.objects.filter(pk=images[0].pk).delete()
    second = json.loads(unzip(body_of(export(manager, image_project, exportType="COCO")))["result.json"])

    assert first["categories"] == second["categories"]
    assert {image["id"] for image in second["images"]} == {images[1].pk, images[2].pk}


def test_yolo_has_ultralytics_layout_with_normalised_boxes(manager, image_project, images):
    files = unzip(body_of(export(manager, image_project, exportType="YOLO")))

    wide, tall, street = images
    wide_name = wide.data["image"].rsplit("/", 1)[1]
    wide_stem = wide_name.rsplit(".", 1)[0]
    assert files[f"images/{wide_name}"].startswith(b"\x89PNG")
    assert files[f"labels/{wide_stem}.txt"].decode().splitlines() == [
        "0 0.350000 0.400000 0.500000 0.400000",
        "1 0.800000 0.500000 0.400000 1.000000",
    ]
    tall_stem = tall.data["image"].rsplit("/", 1)[1].rsplit(".", 1)[0]
    assert files[f"labels/{tall_stem}.txt"] == b""
    assert files[f"labels/{street.pk}-street_scene.txt"] == b"1 0.500000 0.500000 0.500000 0.500000\n"
    assert files["classes.txt"] == b"Face\nPerson\n"
    data = yaml.safe_load(files["data.yaml"])
    assert data == {"train": "images", "val": "images", "nc": 2, "names": {0: "Face", 1: "Person"}}
    # Ultralytics finds an image's labels by swapping /images/ for /labels/ and the extension for .txt.
    for name in files:
        if name.startswith("images/"):
            assert "labels/" + name[len("images/"):].rsplit(".", 1)[0] + ".txt" in files


def test_voc_has_one_xml_per_image_with_integer_pixel_boxes(manager, image_project, images):
    files = unzip(body_of(export(manager, image_project, exportType="VOC")))

    wide_name = images[0].data["image"].rsplit("/", 1)[1]
    root = ElementTree.fromstring(files[f"Annotations/{wide_name.rsplit('.', 1)[0]}.xml"])
    assert root.findtext("filename") == wide_name
    assert (root.findtext("size/width"), root.findtext("size/height"), root.findtext("size/depth")) == ("200", "100", "3")
    objects = [
        (item.findtext("name"), *(int(item.findtext(f"bndbox/{corner}")) for corner in ("xmin", "ymin", "xmax", "ymax")))
        for item in root.iter("object")
    ]
    assert objects == [("Face", 20, 20, 120, 60), ("Person", 120, 0, 200, 100)]
    assert f"JPEGImages/{wide_name}" in files
    assert len([name for name in files if name.startswith("Annotations/")]) == 3


def test_conll2003_round_trips_through_seqeval(manager, text_project, texts):
    content = body_of(export(manager, text_project, exportType="CONLL2003", annotations="all")).decode()

    lines = content.splitlines()
    assert lines[0] == "-DOCSTART- -X- -X- O"
    documents = [block.splitlines() for block in content.split("\n\n")[1:] if block.strip()]
    tags = [[line.split(" ")[-1] for line in document] for document in documents]
    tokens = [[line.split(" ")[0] for line in document] for document in documents]
    assert tokens[0] == TEXTS[0].split()
    assert tags[0] == ["B-PER", "O", "O", "B-LOC", "O", "O"]  # "London" tags the whole token "London's"
    assert tags[2] == ["B-PER", "O", "B-PER", "O", "B-LOC"]
    assert get_entities(tags[2]) == [("PER", 0, 0), ("PER", 2, 2), ("LOC", 4, 4)]
    assert f1_score(tags, tags, mode="strict", scheme=IOB2) == 1.0


def test_csv_and_json_min_open_in_pandas_with_one_row_per_task(manager, text_project, texts):
    table = pandas.read_csv(io.BytesIO(body_of(export(manager, text_project, exportType="CSV"))))
    rows = pandas.read_json(io.BytesIO(body_of(export(manager, text_project, exportType="JSON_MIN"))))

    for frame in (table, rows):
        assert list(frame["id"]) == [texts[0].pk, texts[1].pk]
        assert list(frame["text"]) == list(TEXTS[:2])
        assert list(frame["origin"]) == ["annotation", "annotation"]
    # Two annotations each, so each control's column lists both answers.
    assert json.loads(table["sentiment"][0]) == ["Positive", "Positive"]
    assert rows["sentiment"][1] == ["Neutral", "Negative"]


def test_csv_of_a_consensus_task_holds_its_single_answer(manager, text_project, texts):
    Task.objects.filter(pk=texts[1].pk).update(consensus_result=[{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Neutral"]}}], agreement=0.5, consensus_method="majority")

    table = pandas.read_csv(io.BytesIO(body_of(export(manager, text_project, exportType="CSV"))))

    assert list(table["sentiment"])[1] == "Neutral"
    assert list(table["origin"]) == ["annotation", "consensus"]
    assert list(table["agreement"])[1] == 0.5


def test_a_format_the_config_has_nothing_for_is_a_400(manager, text_project, image_project):
    for project, export_type, wanted in ((text_project, "COCO", "<RectangleLabels>"), (image_project, "CONLL2003", "<Labels>")):
        response = export(manager, project, exportType=export_type)
        assert response.status_code == 400
        assert wanted in response.json()["exportType"][0] and export_type in response.json()["exportType"][0]
