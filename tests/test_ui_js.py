"""The labeling page's pure JavaScript (offsets around emoji, box percentages, key labels), run by Node's test runner."""
import subprocess
from pathlib import Path

import pytest

from tests.optional import command_missing

JS_TESTS = Path(__file__).resolve().parent.parent / "frontend" / "js-tests"


@pytest.mark.skipif(command_missing("node"), reason="node is not installed (make test vendors with npm, so CI has it)")
def test_javascript_units_pass():
    run = subprocess.run(["node", "--test", str(JS_TESTS)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout
