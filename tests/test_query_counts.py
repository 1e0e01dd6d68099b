"""Query counts of the hot endpoints, pinned: a change that adds a query (or a query per row) fails here.

Each count is measured with 1 and with 20 rows of everything the endpoint reads (tasks, annotations,
predictions, projects), so a count that grows with the data shows as a failure at 20. The clients are
force-authenticated, as in the rest of the suite: a token adds its one lookup to each figure.
"""
import pytest
from django.db import connection

from projects import services
from projects.models import Role, Task
from tests.api_helpers import import_tasks, sentiment
from tests.conftest import client_for

ROWS = [1, 20]


def queries_of_next_task() -> int:
    """PostgreSQL's lease transaction also turns off its synchronous commit (SET LOCAL): one statement more."""
    return 10 if connection.vendor == "postgresql" else 9


def prediction(label: str) -> dict:
    return {"model_version": "v1", "score": 0.5, "result": [sentiment(label)]}


def add_annotated_tasks(project, authors, rows: int) -> list[Task]:
    """`rows` tasks, each with `rows` predictions and one annotation by each author."""
    tasks = import_tasks(project, [
        {"data": {"text": f"done {n}"}, "predictions": [prediction("Positive")] * rows} for n in range(rows)
    ])
    for task in tasks:
        for author in authors:
            services.submit_annotation(task=task, author=author, result=[sentiment("Positive")])
    return tasks


@pytest.fixture
def crowd(make_user, text_project):
    """Annotators of text_project beside the named ones, so one task can hold many annotations."""
    def make(rows: int) -> list:
        people = [make_user(f"person{n}") for n in range(rows)]
        for person in people:
            services.add_member(project=text_project, user=person, role=Role.ANNOTATOR)
        return people

    return make


@pytest.fixture
def busy_project(request, text_project, annotator, other_annotator):
    """text_project with `rows` annotated tasks and `rows` waiting ones, each with `rows` predictions."""
    rows = request.param
    add_annotated_tasks(text_project, [annotator, other_annotator], rows)
    import_tasks(text_project, [
        {"data": {"text": f"waiting {n}"}, "predictions": [prediction("Negative")] * rows} for n in range(rows)
    ])
    return text_project


@pytest.mark.parametrize("busy_project", ROWS, indirect=True)
def test_the_next_task(busy_project, annotator, django_assert_num_queries):
    with django_assert_num_queries(queries_of_next_task()):
        response = client_for(annotator).get(f"/api/projects/{busy_project.pk}/next/")

    assert response.status_code == 200 and response.json()["data"]["text"].startswith("waiting")


@pytest.mark.parametrize("busy_project", ROWS, indirect=True)
def test_submitting_the_leased_task(busy_project, annotator, django_assert_num_queries, django_capture_on_commit_callbacks):
    leased = client_for(annotator).get(f"/api/projects/{busy_project.pk}/next/").json()

    # The callbacks run after the commit are part of the request (queueing the task's consensus).
    with django_assert_num_queries(13), django_capture_on_commit_callbacks(execute=True):
        response = client_for(annotator).post(
            f"/api/tasks/{leased['id']}/annotations/", {"result": [sentiment("Positive")]}, format="json",
        )

    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("rows", ROWS)
def test_a_task_with_its_annotations_and_predictions(rows, text_project, manager, crowd, django_assert_num_queries):
    text_project.overlap = rows
    text_project.save(update_fields=["overlap"])
    task, _ = import_tasks(text_project, [
        {"data": {"text": f"task {n}"}, "predictions": [prediction("Neutral")] * rows} for n in range(2)
    ])
    for person in crowd(rows):
        services.submit_annotation(task=task, author=person, result=[sentiment("Positive")])

    with django_assert_num_queries(4):
        body = client_for(manager).get(f"/api/tasks/{task.pk}/").json()

    assert (len(body["annotations"]), len(body["predictions"])) == (rows, rows)


@pytest.mark.parametrize("rows", ROWS)
def test_the_project_list(rows, text_project, manager, django_assert_num_queries):
    for n in range(rows - 1):
        services.create_project(creator=manager, title=f"Reviews {n}", label_config=text_project.label_config)

    with django_assert_num_queries(2):
        body = client_for(manager).get("/api/projects/").json()

    assert body["count"] == rows


@pytest.mark.parametrize("busy_project", ROWS, indirect=True)
def test_the_first_chunk_of_a_streamed_export(busy_project, manager, django_assert_num_queries):
    with django_assert_num_queries(6):
        response = client_for(manager).get(f"/api/projects/{busy_project.pk}/export", {"exportType": "JSON"})
        first_chunk = next(iter(response.streaming_content))

    assert response.status_code == 200 and first_chunk.startswith(b"[")
