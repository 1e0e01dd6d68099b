"""An export on PostgreSQL reads its next chunks in a second connection while it writes (exports/read_ahead.py),
on the very snapshot of its own transaction: what is committed meanwhile stays out of it, as it would with one
connection, and a client that goes away stops the reader."""
import json
import threading

import pytest
from django.db import connection, connections

from exports import selection, services
from exports.selection import ExportFilters
from projects.models import Annotation, Task
from tests.api_helpers import import_texts, sentiment, submit

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's snapshots")]


@pytest.fixture
def small_pieces(monkeypatch):
    """Chunks of 5 tasks and a piece per write, so a 30-task export is read and written in many steps."""
    monkeypatch.setattr(selection, "CHUNK_SIZE", 5)
    monkeypatch.setattr(services, "STREAM_PIECE_BYTES", 1)


def readers_alive() -> int:
    return sum(thread.name == "export-read-ahead" and thread.is_alive() for thread in threading.enumerate())


def in_another_connection(work) -> None:
    """What annotators do meanwhile: committed through a connection of its own."""
    def run():
        try:
            work()
        finally:
            connections.close_all()
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


def test_what_is_committed_during_an_export_stays_out_of_it(transactional_db, text_project, annotator, small_pieces):
    tasks = import_texts(text_project, *(f"review {n}" for n in range(30)))
    for task in tasks:
        assert submit(annotator, task, [sentiment("Positive")]).status_code == 201

    pieces = services.stream_export(text_project, "JSON", ExportFilters(tasks="all"))
    first = next(pieces)
    assert readers_alive() == 1  # the next chunks are being read meanwhile
    in_another_connection(lambda: (
        import_texts(text_project, "a late task"),
        Annotation.objects.filter(task=tasks[-1]).update(result=[sentiment("Negative")]),
    ))
    exported = json.loads(first + b"".join(pieces))

    assert [task["id"] for task in exported] == [task.pk for task in tasks]  # not the late task, in id order
    assert exported[-1]["annotations"][0]["result"][0]["value"] == {"choices": ["Positive"]}  # as it was
    assert Task.objects.filter(project=text_project).count() == 31 and readers_alive() == 0


def test_a_client_that_goes_away_stops_the_reader(transactional_db, text_project, annotator, small_pieces):
    import_texts(text_project, *(f"review {n}" for n in range(30)))

    pieces = services.stream_export(text_project, "JSON", ExportFilters(tasks="all"))
    next(pieces)
    pieces.close()

    assert readers_alive() == 0
    assert not connection.in_atomic_block  # the export's transaction is over too


def test_the_reader_joins_the_snapshot_the_export_began_with(transactional_db, text_project, small_pieces):
    early = import_texts(text_project, *(f"review {n}" for n in range(12)))

    with selection.consistent_reads():  # the export's snapshot is taken here
        in_another_connection(lambda: import_texts(text_project, "committed after the export began"))
        chunks = selection.task_record_chunks(text_project, ExportFilters(tasks="all"), with_predictions=False)
        read = [record["id"] for chunk in chunks for record in chunk]

    assert read == [task.pk for task in early]  # a reader on a snapshot of its own would see the 13th
