"""Optional extras the suite may skip on a developer's machine, but never in CI, where `make test` installs them all."""
import importlib
import os
import shutil
from types import ModuleType

import pytest

IN_CI = bool(os.environ.get("CI"))


def import_optional(module: str, install_hint: str) -> ModuleType:
    """The module, or a skip naming how to install it; in CI a missing one fails the test instead."""
    if IN_CI:
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f"{module} is not installed ({install_hint})")


def command_missing(command: str) -> bool:
    """For skipif: the command is not on PATH, outside CI (in CI the test runs, and fails without it)."""
    return shutil.which(command) is None and not IN_CI


VISION = "pip install 'labeler[vision]'"
