"""A dialogue (<Paragraphs>) or a list of responses (<List>) in a CSV/TSV cell, imported through the API: the cell
holds the JSON list, and a cell that is not JSON, or JSON of the wrong shape, is a 400 naming the line and column."""
import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects import services
from projects.models import Task
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

CONFIG = """<View>
  <Paragraphs name="chat" value="$dialogue" layout="dialogue" nameKey="role" textKey="content"/>
  <Text name="answer" value="$response"/>
  <Choices name="helpful" toName="answer"><Choice value="Yes"/><Choice value="No"/></Choices>
</View>"""
LIST_CONFIG = """<View><Text name="prompt" value="$prompt"/><List name="responses" value="$responses"/>
  <Ranker name="rank" toName="responses"/></View>"""
DIALOGUE = [{"role": "user", "content": 'Say "hi", then a comma, then a\nnew line'}, {"role": "assistant", "content": "hi,\nthere"}]
RESPONSES = [{"id": "r1", "title": "model-x", "body": "Two"}, {"id": "r2", "title": "model-y", "body": "Four"}]


@pytest.fixture
def make_project(manager):
    return lambda config: services.create_project(creator=manager, title="Chats", label_config=config)


def table(rows: list[list], delimiter: str = ",") -> bytes:
    """The rows as a spreadsheet or pandas' to_csv would write them (quotes doubled, cells with newlines quoted)."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()


def upload(project, name: str, content: bytes):
    file = SimpleUploadedFile(name, content)
    return client_for(project.created_by).post(f"/api/projects/{project.pk}/import", {"file": file}, format="multipart")


def test_a_csv_cell_holding_a_json_dialogue_is_imported_as_its_messages(make_project):
    project = make_project(CONFIG)
    content = table([["dialogue", "response"], [json.dumps(DIALOGUE), '["not", "parsed"]'],
                     [json.dumps(DIALOGUE[:1]), "Plain."]])

    response = upload(project, "chats.csv", content)

    assert response.status_code == 201, response.json()
    first, second = Task.objects.filter(project=project).order_by("id")
    assert first.data == {"dialogue": DIALOGUE, "response": '["not", "parsed"]'}  # a <Text> cell stays its text
    assert second.data["dialogue"] == DIALOGUE[:1]
    shown = client_for(project.created_by).get(f"/api/tasks/{first.pk}/").json()
    assert shown["data"]["dialogue"][1]["content"] == "hi,\nthere"


def test_a_tsv_cell_holding_a_json_list_of_responses_is_imported(make_project):
    project = make_project(LIST_CONFIG)

    response = upload(project, "ranked.tsv", table([["prompt", "responses"], ["2 + 2?", json.dumps(RESPONSES)]], "\t"))

    assert response.status_code == 201, response.json()
    assert Task.objects.get(project=project).data["responses"] == RESPONSES


@pytest.mark.parametrize("cell, message", [
    ("user: hi", 'chats.csv: line 3, column "dialogue": the cell is not JSON (line 1 column 1: Expecting value); '
                 '<Paragraphs name="chat"> takes a JSON list in it, like [{"role": "user", "content": "Hi"}, '
                 '{"role": "assistant", "content": "Hello!"}]'),
    ("", 'chats.csv: line 3, column "dialogue": the cell is empty; <Paragraphs name="chat"> takes a JSON list'),
    ('[{"role": "user"', 'chats.csv: line 3, column "dialogue": the cell is not JSON'),
    ('{"role": "user", "content": "hi"}', 'chats.csv: line 3: task data "dialogue" must be a list of messages'),
    ('[{"role": "user", "text": "hi"}]', 'chats.csv: line 3: task data "dialogue"[0] has no "content"'),
])
def test_a_bad_dialogue_cell_is_refused_naming_the_line_and_column(make_project, cell, message):
    project = make_project(CONFIG)
    content = table([["dialogue", "response"], [json.dumps(DIALOGUE), "Fine."], [cell, "Also fine."]])

    response = upload(project, "chats.csv", content)

    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not Task.objects.filter(project=project).exists()  # nothing of a refused file is kept


def test_a_bad_list_cell_names_the_lists_shape(make_project):
    project = make_project(LIST_CONFIG)

    response = upload(project, "ranked.csv", table([["prompt", "responses"], ["2 + 2?", "Two; Four"]]))

    assert response.status_code == 400
    assert 'ranked.csv: line 2, column "responses": the cell is not JSON' in response.json()["detail"]
    assert '<List name="responses"> takes a JSON list in it, like [{"id": "r1", "title": "model-x"' in response.json()["detail"]
