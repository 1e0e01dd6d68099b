"""CoNLL-2003 named entities: `token -X- _ TAG` lines with BIO tags, a blank line between documents.

Tokenisation rule (documented in the README): tokens are the runs of non-whitespace in the text. A span covers
every token it overlaps, so a span that splits a token ("London" inside "London's") tags the whole token. Where
spans overlap, the one starting first (the longer on a tie) is kept and the other is left out and counted, so
the tags are always valid BIO. Each exported annotation of a task is one document.
"""
import re
from bisect import bisect_left, bisect_right
from typing import Iterable, Iterator

from .context import ExportContext
from .results import Span, regions_of

TOKEN = re.compile(r"\S+")
DOCSTART = b"-DOCSTART- -X- -X- O\n\n"


def write_conll(tasks: Iterable[dict], context: ExportContext) -> Iterator[bytes]:
    control = context.span_control()
    field = context.data_field(control)
    yield DOCSTART
    for task in tasks:
        text = str(task["data"].get(field) or "")
        for annotation in task["annotations"]:
            tokens, tags = tag_tokens(text, regions_of(annotation, control), context)
            if tokens:
                context.counts["documents"] += 1
                yield "".join(f"{token} -X- _ {tag}\n" for token, tag in zip(tokens, tags)).encode() + b"\n"
        if not task["annotations"]:
            context.counts["tasks_left_out_unlabeled"] += 1


def tag_tokens(text: str, spans: list[Span], context: ExportContext) -> tuple[list[str], list[str]]:
    matches = list(TOKEN.finditer(text))
    starts = [match.start() for match in matches]
    ends = [match.end() for match in matches]
    tags = ["O"] * len(matches)
    for span in sorted(spans, key=lambda span: (span.start, -span.end)):
        first = bisect_right(ends, span.start)  # the first token ending after the span starts
        last = bisect_left(starts, span.end) - 1  # the last token starting before the span ends
        if first > last:
            continue  # only whitespace inside the span
        if any(tag != "O" for tag in tags[first:last + 1]):
            context.counts["spans_left_out_overlapping"] += 1
            continue
        tags[first:last + 1] = [f"B-{span.label}"] + [f"I-{span.label}"] * (last - first)
        context.counts["spans"] += 1
    return [match.group() for match in matches], tags
