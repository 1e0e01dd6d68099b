"""The demo's preference project (`make run` seeds it): generated prompts answered by two of three made-up
models, which a manager can label, rank on the leaderboard and export as TRL preference rows."""
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from ml.management.commands.seed_demo import DEMO_MODELS, GENAI_TASK_COUNT
from projects.models import Project
from tests.api_helpers import submit
from tests.conftest import client_for
from tests.export_helpers import body_of, export

TITLE = "Demo: which answer is better?"


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())
    User = get_user_model()
    return Project.objects.get(title=TITLE), User.objects.get(username="manager"), User.objects.get(username="annotator1")


def preference(selected: str) -> dict:
    return {"from_name": "preference", "to_name": "a,b", "type": "pairwise", "value": {"selected": selected}}


def test_each_demo_prompt_is_answered_by_two_different_demo_models(demo):
    project, _, _ = demo
    tasks = list(project.tasks.all())

    assert len(tasks) == GENAI_TASK_COUNT
    for task in tasks:
        assert task.data["model_a"] != task.data["model_b"]
        assert {task.data["model_a"], task.data["model_b"]} <= set(DEMO_MODELS)
        assert task.data["prompt"].endswith(("?", ".")) and task.data["response_a"] and task.data["response_b"]


def test_the_demo_project_is_labelled_ranked_and_exported(demo):
    project, manager, annotator = demo
    tasks = list(project.tasks.order_by("id")[:4])
    for task in tasks:
        careful_side = "left" if task.data["model_a"] == "model-careful" else "right"
        assert submit(annotator, task, [preference(careful_side)]).status_code == 201

    board = client_for(manager).get(f"/api/projects/{project.pk}/leaderboard/?source=annotations&bootstrap=0").json()
    rows = [json.loads(line) for line in body_of(export(manager, project, exportType="PREFERENCE_JSONL", annotations="all")).splitlines()]

    assert board["models"][0]["model"] in DEMO_MODELS
    assert sum(model["judgments"] for model in board["models"]) == 2 * len(tasks)
    assert len(rows) == len(tasks) and {"prompt", "chosen", "rejected"} <= rows[0].keys()
