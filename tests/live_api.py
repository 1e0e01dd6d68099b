"""A populated Labeler behind a live server, for the tests that call the API as an outside client would
(schemathesis over the schema, a client generated from it): a manager with a token, a project with tasks,
annotations, a prediction, a job and an export snapshot, and the ids a fuzzed path should name."""
from dataclasses import dataclass

import pytest
from rest_framework.authtoken.models import Token

from exports import services as export_services
from exports.selection import ExportFilters
from projects import services
from projects.models import Annotation, Prediction, Role, Task
from projects import jobs
from projects.models import Job

from .api_helpers import import_tasks
from .conftest import TEXT_CONFIG

TASKS = [
    {"data": {"text": "Great service, friendly staff in London."}, "predictions": [
        {"model_version": "m1", "score": 0.9, "result": [
            {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}]}]},
    {"text": "Terrible food."},
    {"text": "It was fine."},
]


def choice(value: str) -> list[dict]:
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [value]}}]


@dataclass
class LiveWorld:
    base_url: str
    token: str
    project_id: int
    task_id: int
    annotation_id: int
    job_id: int
    snapshot_id: int
    member_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}

    def id_for(self, path: str, name: str) -> int:
        """The id of a real object for a path parameter of this operation."""
        if name == "user_id":
            return self.member_id
        prefixes = {"/api/projects/": self.project_id, "/api/tasks/": self.task_id,
                    "/api/annotations/": self.annotation_id, "/api/jobs/": self.job_id, "/api/exports/": self.snapshot_id}
        return next(value for prefix, value in prefixes.items() if path.startswith(prefix))


@pytest.fixture
def live_world(live_server, staff, annotator) -> LiveWorld:
    """The staff user manages a project that has work in it; the annotator has annotated two of its tasks."""
    project = services.create_project(creator=staff, title="Reviews", label_config=TEXT_CONFIG)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    import_tasks(project, TASKS)
    first, second, _ = Task.objects.filter(project=project).order_by("id")
    annotation, _ = services.submit_annotation(
        task=first, author=annotator, result=choice("Positive"), lead_time=3.5,
        prediction=Prediction.objects.get(task=first),
    )
    services.submit_annotation(task=second, author=annotator, result=choice("Negative"))
    job = jobs.create_job(kind=Job.Kind.EXPORT, project=project, created_by=staff, total=2)
    snapshot = export_services.start_snapshot(project=project, user=staff, export_type="JSON", filters=ExportFilters())
    assert Annotation.objects.filter(project=project).count() == 2
    return LiveWorld(
        base_url=live_server.url, token=Token.objects.create(user=staff).key, project_id=project.pk,
        task_id=first.pk, annotation_id=annotation.pk, job_id=job.pk, snapshot_id=snapshot.pk, member_id=annotator.pk,
    )
