"""Task.response_models: what in a task's data names the models that wrote its responses, kept beside the data by
every writer (the import's COPY or bulk insert, the task's PATCH, a model save as the admin's form does), so the
leaderboard never has to decompress the whole data."""
import pytest

from projects import services
from projects.label_config import response_models
from projects.models import Task
from tests.api_helpers import import_tasks

pytestmark = pytest.mark.django_db

CONFIG = """<View><Text name="a" value="$a"/><Text name="b" value="$b"/><List name="responses" value="$responses"/>
  <Pairwise name="pw" toName="a,b"/><Ranker name="rank" toName="responses"/></View>"""


def test_it_keeps_the_model_keys_and_each_lists_ids_models_and_titles():
    data = {"a": "long text", "model_a": "alpha", "b_model": "beta", "modelling": "no", "responses": [
        {"id": "r1", "title": "gamma", "body": "long body", "model": "g-1"}, "not an item", {"body": "no id"}],
        "dialogue": [{"role": "user", "content": "hi"}], "tags": ["x", "y"]}

    assert response_models(data) == {
        "model_a": "alpha", "b_model": "beta",
        "responses": [{"id": "r1", "model": "g-1", "title": "gamma"}, None, {}],
        "dialogue": [{}],
    }
    assert response_models({"text": "nothing here"}) is None and response_models(["not", "a dict"]) is None


def test_the_import_the_patch_and_a_model_save_keep_it(api, manager):
    project = services.create_project(creator=manager, title="Arena", label_config=CONFIG)
    [task] = import_tasks(project, [{"a": "x", "b": "y", "model_a": "alpha", "model_b": "beta",
                                     "responses": [{"id": "r1", "body": "z", "model": "gamma"}]}])
    assert Task.objects.get(pk=task.pk).response_models == {
        "model_a": "alpha", "model_b": "beta", "responses": [{"id": "r1", "model": "gamma"}]}

    changed = {**task.data, "model_b": "delta"}
    assert api(manager).patch(f"/api/tasks/{task.pk}/", {"data": changed}, format="json").status_code == 200
    assert Task.objects.get(pk=task.pk).response_models["model_b"] == "delta"
    api(manager).patch(f"/api/tasks/{task.pk}/", {"meta": {"note": "kept"}}, format="json")
    assert Task.objects.get(pk=task.pk).response_models["model_b"] == "delta"

    Task.objects.create(project=project, data={"a": "x", "b": "y", "model_a": "epsilon", "responses": []})
    assert Task.objects.filter(project=project).last().response_models == {"model_a": "epsilon"}
