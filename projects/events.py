"""What the core announces: a tiny publish/subscribe, so the apps built on `projects` react to its changes
without `projects` importing them.

A writer announces an event inside its transaction. Subscribers say when they want to hear it:
- `during` the transaction, for bookkeeping that must commit or roll back with the change (an outbox row, a
  counter), so a crash between the commit and the follow-up never loses the follow-up;
- `after_commit` (the default), for work that must see the committed rows (queueing a Celery task). Each such
  handler runs on its own: one that raises is logged and the others still run.
Subscribers connect in their AppConfig.ready().
"""
import functools
import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)
Handler = Callable[..., None]


class Event:
    def __init__(self, name: str, *facts: str):
        self.name = name
        self.facts = facts  # the keyword arguments every handler receives
        self._during: list[Handler] = []
        self._after_commit: list[Handler] = []

    def __repr__(self) -> str:
        return f"Event({self.name!r})"

    def subscribe(self, handler: Handler, *, during: bool = False) -> None:
        handlers = self._during if during else self._after_commit
        if handler not in handlers:
            handlers.append(handler)

    def unsubscribe(self, handler: Handler) -> None:
        for handlers in (self._during, self._after_commit):
            if handler in handlers:
                handlers.remove(handler)

    def announce(self, **facts) -> None:
        missing = set(self.facts) - set(facts)
        if missing:
            raise TypeError(f"{self.name}: missing {', '.join(sorted(missing))}")
        for handler in self._during:
            handler(**facts)
        for handler in self._after_commit:
            transaction.on_commit(functools.partial(_run_logged, self, handler, facts))


def _run_logged(event: Event, handler: Handler, facts: dict) -> None:
    try:
        handler(**facts)
    except Exception:  # the change is committed; a follow-up that fails must not break the caller's answer
        logger.exception("%s: subscriber %s failed", event.name, getattr(handler, "__qualname__", handler))


# A task's annotations were added, edited, skipped or deleted: its consensus is out of date.
annotations_changed = Event("annotations changed", "task_id")
# An annotator submitted a new annotation (not a skip).
annotation_submitted = Event("annotation submitted", "project_id", "annotation_id")
# An import committed new tasks.
tasks_imported = Event("tasks imported", "project_id")
# A Job row was created and waits for a worker.
job_queued = Event("job queued", "job_id", "kind")
