"""A Python client generated from the live schema by openapi-python-client: every module imports, and a manager's
whole flow (create a project, import tasks, take the next one, annotate it, export) runs through it."""
import csv
import importlib
import io
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from .live_api import live_world  # noqa: F401 (a fixture)

pytestmark = pytest.mark.schemathesis

CLIENT_SETTINGS = Path(__file__).resolve().parent.parent / "clients" / "python"
CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""


@pytest.fixture
def generated_client(live_world, tmp_path):
    """The package openapi-python-client writes from /api/schema/, importable as `labeler_client`."""
    schema_file = tmp_path / "schema.json"
    schema_file.write_bytes(requests.get(f"{live_world.base_url}/api/schema/", params={"format": "json"}, timeout=30).content)
    package = tmp_path / "labeler_client"
    generator = Path(sys.executable).parent / "openapi-python-client"
    subprocess.run(
        [str(generator), "generate", "--path", str(schema_file), "--output-path", str(package), "--meta", "none",
         "--config", str(CLIENT_SETTINGS / "config.yaml"), "--custom-template-path", str(CLIENT_SETTINGS / "templates")],
        check=True, capture_output=True, timeout=120,
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("labeler_client")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == "labeler_client" or name.startswith("labeler_client.")]:
            del sys.modules[name]


def test_every_generated_module_imports(generated_client):
    names = [module.name for module in pkgutil.walk_packages(generated_client.__path__, "labeler_client.")]

    failures = {}
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - the report names every module that does not import
            failures[name] = repr(exc)

    assert failures == {}
    assert len([name for name in names if ".api." in name]) >= 42  # one module per operation


def without_id(item: dict) -> dict:
    return {key: value for key, value in item.items() if key != "id"}


def test_a_manager_runs_the_whole_flow_through_the_generated_client(generated_client, live_world):
    from labeler_client import AuthenticatedClient
    from labeler_client.api.annotations import annotations_retrieve
    from labeler_client.api.projects import (
        projects_create, projects_export_retrieve, projects_import_create, projects_next_retrieve, projects_retrieve,
    )
    from labeler_client.api.tasks import tasks_annotations_create
    from labeler_client.models import (
        AnnotationInputRequest, ImportResult, ProjectRequest, ProjectsExportRetrieveExportType,
        ProjectsImportCreateFilesBody, ProjectsImportCreateJsonBodyItem,
    )
    from labeler_client.types import File

    client = AuthenticatedClient(base_url=live_world.base_url, token=live_world.token, prefix="Token", raise_on_unexpected_status=True)

    project = projects_create.sync(client=client, body=ProjectRequest(title="Generated", label_config=CONFIG, overlap=1))
    imported = projects_import_create.sync(project.id, client=client, body=[
        ProjectsImportCreateJsonBodyItem.from_dict({"data": {"text": "Loved it."}}),
        ProjectsImportCreateJsonBodyItem.from_dict({"data": {"text": "Hated it."}}),
    ])
    uploaded = projects_import_create.sync(project.id, client=client, body=ProjectsImportCreateFilesBody(
        file=File(payload=io.BytesIO(b'{"text": "From a file."}\n'), file_name="more.jsonl", mime_type="application/jsonl")
    ))
    leased = projects_next_retrieve.sync(project.id, client=client)
    result = [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}]
    annotation = tasks_annotations_create.sync(leased.id, client=client, body=AnnotationInputRequest(result=result, lead_time=2.0))
    exported = projects_export_retrieve.sync(project.id, client=client, export_type=ProjectsExportRetrieveExportType.JSON)
    # The generated function parses its answer as JSON; other formats come through the client's own httpx session.
    as_csv = client.get_httpx_client().get(f"/api/projects/{project.id}/export", params={"exportType": "CSV"})

    assert isinstance(imported, ImportResult) and imported.task_count == 2
    assert isinstance(uploaded, ImportResult) and uploaded.task_count == 1
    assert projects_retrieve.sync(project.id, client=client).task_count == 3
    assert annotations_retrieve.sync(annotation.id, client=client).result == result
    # The export's final labels: the annotation, or (once the worker has merged it) the consensus, which is the
    # same answer with item ids of its own.
    exported_labels = [(task["id"], [without_id(item) for item in task["annotations"][0]["result"]])
                       for task in (item.to_dict() for item in exported)]
    assert exported_labels == [(leased.id, result)]
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert [row["sentiment"] for row in csv.DictReader(io.StringIO(as_csv.content.decode()))] == ["Positive"]
