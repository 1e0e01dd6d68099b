"""Read an export's next chunk while this one is written: a second PostgreSQL connection, in a thread, reads on the
very snapshot of the export's transaction (pg_export_snapshot / SET TRANSACTION SNAPSHOT, as pg_dump's parallel
workers do), so the dataset is as coherent as when one connection reads it all.

Why: the database spends a third of a 100,000-task export turning rows into text while the writer waits, and the
writer then spends the rest while the database idles; on two cores the two can overlap.
"""
import queue
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TypeVar

from django.db import connection, connections, transaction

T = TypeVar("T")
CHUNKS_AHEAD = 2  # chunks read and waiting; each is a few MB
PUT_TIMEOUT = 0.5  # how often a blocked reader looks whether the writer went away
DONE = object()

# The snapshot of the export transaction in progress, set by share_snapshot(); None: read in line.
_shared_snapshot: ContextVar[str | None] = ContextVar("export_snapshot", default=None)


def share_snapshot() -> None:
    """Inside the export's REPEATABLE READ transaction: let the chunks be read ahead on its snapshot."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_export_snapshot()")
        _shared_snapshot.set(cursor.fetchone()[0])


def forget_snapshot() -> None:
    _shared_snapshot.set(None)


def read_ahead(chunks: Callable[[], Iterator[T]]) -> Iterator[T]:
    """The items `chunks()` makes, made in another thread on the export's snapshot when there is one; in line
    otherwise (SQLite, or inside an outer transaction)."""
    snapshot = _shared_snapshot.get()
    if snapshot is None:
        yield from chunks()
        return
    ready: queue.Queue = queue.Queue(maxsize=CHUNKS_AHEAD)
    stop = threading.Event()
    reader = threading.Thread(target=_read, args=(chunks, snapshot, ready, stop), daemon=True, name="export-read-ahead")
    reader.start()
    try:
        while (item := ready.get()) is not DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()  # the writer stopped early (a client went away): the reader stops at its next chunk
        reader.join()


def _read(chunks: Callable[[], Iterator], snapshot: str, ready: queue.Queue, stop: threading.Event) -> None:
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
            for item in chunks():
                if not _put(ready, item, stop):
                    return
        _put(ready, DONE, stop)
    except BaseException as error:  # handed to the writer, which raises it in the request
        _put(ready, error, stop)
    finally:
        connections.close_all()  # this thread's connections only


def _put(ready: queue.Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            ready.put(item, timeout=PUT_TIMEOUT)
            return True
        except queue.Full:
            continue
    return False
