"""Helpers the API and admin tests share: put tasks into a project, build result items, read counters back."""
from projects.models import Annotation, Project, Task
from tests.conftest import client_for


def import_tasks(project: Project, tasks: list[dict]) -> list[Task]:
    """Import tasks through the API as the project's creator; answer the new tasks in order."""
    last_id = Task.objects.filter(project=project).order_by("-id").values_list("id", flat=True).first() or 0
    response = client_for(project.created_by).post(f"/api/projects/{project.pk}/import", tasks, format="json")
    assert response.status_code == 201, response.json()
    return list(Task.objects.filter(project=project, id__gt=last_id).order_by("id"))


def import_texts(project: Project, *texts: str) -> list[Task]:
    return import_tasks(project, [{"text": text} for text in texts])


def sentiment(choice: str) -> dict:
    return {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [choice]}}


def span(text: str, start: int, end: int, label: str, quoted: str | None = None) -> dict:
    value = {"start": start, "end": end, "text": text[start:end] if quoted is None else quoted, "labels": [label]}
    return {"from_name": "entities", "to_name": "text", "type": "labels", "value": value}


def box(x: float, y: float, width: float, height: float, label: str = "Face") -> dict:
    value = {"x": x, "y": y, "width": width, "height": height, "rotation": 0, "rectanglelabels": [label]}
    return {"from_name": "box", "to_name": "image", "type": "rectanglelabels", "value": value}


def submit(user, task: Task, result: list | None = None, *, key: str | None = None, **fields):
    headers = {"Idempotency-Key": key} if key else {}
    body = {"result": result if result is not None else [sentiment("Positive")], **fields}
    return client_for(user).post(f"/api/tasks/{task.pk}/annotations/", body, format="json", headers=headers)


def counts_shown(user, project: Project) -> dict:
    """The counters the project's API detail shows to the user."""
    body = client_for(user).get(f"/api/projects/{project.pk}/").json()
    return {name: body[name] for name in ("task_count", "finished_task_count", "annotation_count")}


def counts_in_rows(project: Project) -> dict:
    """The same counters computed from the rows themselves, for comparison."""
    project.refresh_from_db()
    submitted_per_task = [
        Annotation.objects.filter(task=task, was_cancelled=False).count() for task in Task.objects.filter(project=project)
    ]
    return {
        "task_count": len(submitted_per_task),
        "finished_task_count": sum(1 for submitted in submitted_per_task if submitted >= project.overlap),
        "annotation_count": sum(submitted_per_task),
    }
