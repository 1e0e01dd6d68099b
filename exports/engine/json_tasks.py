"""JSON and JSONL: Label Studio's task export, one task record as the selector made it.

A record is already in Label Studio's shape (`id`, `data`, `meta`, `annotations`, `predictions`, plus our
`consensus`), so writing it is one `dumps`; its JSON values may be `raw` text straight from the database. Each annotation carries `origin`: "annotation" for an
annotator's own, "consensus" or "review" for a task's merged or reviewed result exported in its place.
"""
import json
from typing import Iterable, Iterator

import orjson

from .context import ExportContext


def dumps(value) -> bytes:
    """Compact UTF-8 JSON. orjson is several times faster than json; it refuses integers past 64 bits, which
    imported data may hold, and those go through json instead."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def raw(text: str | None) -> orjson.Fragment | None:
    """JSON text to be written as it is; SQL NULL and JSON null are both None, as `loads` makes them."""
    return None if text is None or text == "null" else orjson.Fragment(text)


def loads(text: str | None):
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)  # past orjson's number range; anything else fails here with json's message


def write_json(tasks: Iterable[dict], context: ExportContext) -> Iterator[bytes]:
    separator = b"[\n"
    for task in tasks:
        yield separator + dumps(task)
        separator = b",\n"
    yield b"[]\n" if separator == b"[\n" else b"\n]\n"


def write_jsonl(tasks: Iterable[dict], context: ExportContext) -> Iterator[bytes]:
    for task in tasks:
        yield dumps(task) + b"\n"
