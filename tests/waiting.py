"""Waiting in tests on a condition, never on a fixed sleep: poll until it holds, or fail saying what did not happen."""
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    """Answer the condition's first truthy value. `what` names the failure ("the job did not finish"), reported
    once `timeout` seconds passed without one; the condition is checked once more at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(interval)
