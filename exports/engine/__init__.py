"""The export engine: plain task records in, a file's bytes out, one module per format.

Nothing here touches the database or storage. The selector hands in task records (dicts, see `records.py`) and
the service hands in a way to read stored images, so every writer runs on plain data in tests and benchmarks.
A writer is a generator of byte strings; `write_to` sends them to any binary stream.
"""
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterable, Iterator

from .context import ExportContext, ExportError, StoredImage
from . import coco, conll, json_tasks, preference, ratings, sft, tables, voc, yolo

__all__ = ["ExportContext", "ExportError", "ExportFormat", "FORMATS", "StoredImage", "write_to"]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    extension: str
    content_type: str
    write: Callable[[Iterable[dict], ExportContext], Iterator[bytes]]
    # What the label config must have for the format to mean anything: None, "boxes" or "spans" (a region kind),
    # or "preferences", "sft" or "ratings" (the GenAI formats, see genai.py).
    needs: str | None = None
    with_predictions: bool = False
    # The writer copies data, meta and results without looking inside: they may stay the database's JSON text.
    raw_json: bool = False


FORMATS: dict[str, ExportFormat] = {
    spec.name: spec
    for spec in (
        ExportFormat("JSON", "json", "application/json", json_tasks.write_json, with_predictions=True, raw_json=True),
        ExportFormat("JSON_MIN", "json", "application/json", tables.write_json_min),
        ExportFormat("JSONL", "jsonl", "application/x-ndjson", json_tasks.write_jsonl, with_predictions=True, raw_json=True),
        ExportFormat("CSV", "csv", "text/csv; charset=utf-8", tables.write_csv),
        ExportFormat("COCO", "zip", "application/zip", coco.write_coco, needs="boxes"),
        ExportFormat("YOLO", "zip", "application/zip", yolo.write_yolo, needs="boxes"),
        ExportFormat("VOC", "zip", "application/zip", voc.write_voc, needs="boxes"),
        ExportFormat("CONLL2003", "conll", "text/plain; charset=utf-8", conll.write_conll, needs="spans"),
        ExportFormat("PREFERENCE_JSONL", "jsonl", "application/x-ndjson", preference.write_preference_jsonl, needs="preferences"),
        ExportFormat("SFT_JSONL", "jsonl", "application/x-ndjson", sft.write_sft_jsonl, needs="sft"),
        ExportFormat("RATINGS_CSV", "csv", "text/csv; charset=utf-8", ratings.write_ratings_csv, needs="ratings"),
    )
}


def write_to(stream: BinaryIO, pieces: Iterable[bytes]) -> int:
    """Write a writer's output to a binary stream; answer the number of bytes written."""
    size = 0
    for piece in pieces:
        stream.write(piece)
        size += len(piece)
    return size
