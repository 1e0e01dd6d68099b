"""Pre-labeling end to end: the API starts a job, a real `celery worker` process runs it against Redis, and the
predictions show through the API. Includes a real HTTP ML backend on loopback and a worker killed mid-job."""
import io
import time

import pytest
import redis
from django.conf import settings as django_settings
from django.db.models import Count

from ml.loading import build_engine
from ml.engines.base import TaskInput
from ml.models import ModelVersion, PrelabelChunk, ProjectModel
from projects.models import Prediction, Task
from tests.api_helpers import import_tasks, import_texts, sentiment, submit
from tests.conftest import WorkerProcess, wait_for_job
from tests.fake_ml_backend import FakeMLBackend
from tests.ml_data import reviews
from tests.optional import VISION, import_optional
from tests.waiting import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("loopback_backends")]


def labelled(texts_and_labels) -> list[dict]:
    return [{"data": {"text": text}, "annotations": [{"result": [sentiment(label)]}]} for text, label in texts_and_labels]


def configure(api, manager, project, **settings) -> None:
    response = api(manager).put(f"/api/projects/{project.pk}/model/", settings, format="json")
    assert response.status_code == 200, response.json()


def run_prelabel(api, manager, project, timeout: float = 60, **body):
    response = api(manager).post(f"/api/projects/{project.pk}/predict/", body, format="json")
    assert response.status_code == 202, response.json()
    wait_for_job(response.json()["id"], timeout)
    return api(manager).get(response.json()["url"]).json()


def wait_for_version(project, number: int, timeout: float = 60) -> ModelVersion:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        model = ProjectModel.objects.select_related("active_version").get(project=project)
        if model.active_version and model.active_version.number >= number:
            return model.active_version
        time.sleep(0.1)
    raise AssertionError(
        f"no model version {number} in {timeout} s: {model.training_state}, {model.new_labels} new labels, "
        f"error {model.training_error!r}, versions {list(ModelVersion.objects.filter(project=project).values_list('version', 'trained_on'))}"
    )


def held_out_accuracy(project, version: ModelVersion) -> float:
    model = ProjectModel.objects.get(project=project)
    engine = build_engine(model, project.label_config, version)
    held_out = reviews(200, seed=99)
    suggestions = engine.predict([TaskInput(i, {"text": text}) for i, (text, _) in enumerate(held_out)])
    return sum(s.result[0]["value"]["choices"] == [label] for s, (_, label) in zip(suggestions, held_out)) / len(held_out)


def test_a_job_trains_the_classifier_and_pre_labels_every_task(worker, api, manager, text_project):
    import_tasks(text_project, labelled(reviews(30, seed=1)) + [{"text": text} for text, _ in reviews(20, seed=2)])
    configure(api, manager, text_project, engine="text_classifier", min_labels=10, retrain_every=0)

    job = run_prelabel(api, manager, text_project)

    assert (job["status"], job["progress"], job["error"]) == ("succeeded", {"done": 50, "total": 50}, "")
    assert (job["result"]["predicted"], job["result"]["errors"], job["result"]["model_version"]) == (50, 0, "text_classifier-v1")
    assert job["result"]["rate_per_second"] > 0
    task = Task.objects.filter(project=text_project).last()
    [prediction] = api(manager).get(f"/api/tasks/{task.pk}/").json()["predictions"]
    assert prediction["model_version"] == "text_classifier-v1" and prediction["result"][0]["from_name"] == "sentiment"
    task.refresh_from_db()
    assert task.uncertainty == pytest.approx(1 - prediction["score"])

    again = run_prelabel(api, manager, text_project)  # running it twice writes the same predictions once
    assert again["status"] == "succeeded"
    assert Prediction.objects.filter(project=text_project).count() == 50


def test_new_annotations_retrain_the_model_into_a_better_new_version(worker, api, manager, annotator, text_project):
    import_tasks(text_project, labelled(reviews(6, seed=7)))
    configure(api, manager, text_project, engine="text_classifier", min_labels=5, retrain_every=40)
    assert api(manager).post(f"/api/projects/{text_project.pk}/model/train/").json()["queued"] is True
    first = wait_for_version(text_project, 1)

    for task, (text, label) in zip(import_texts(text_project, *[text for text, _ in reviews(42, seed=8)]), reviews(42, seed=8)):
        assert submit(annotator, task, [sentiment(label)]).status_code == 201
    second = wait_for_version(text_project, 2)

    assert (first.version, second.version) == ("text_classifier-v1", "text_classifier-v2")
    assert second.trained_on > first.trained_on
    accuracy = (held_out_accuracy(text_project, first), held_out_accuracy(text_project, second))
    assert accuracy[1] > accuracy[0], accuracy
    versions = api(manager).get(f"/api/projects/{text_project.pk}/model/versions/").json()
    assert [v["version"] for v in versions] == ["text_classifier-v2", "text_classifier-v1"]


def test_a_learned_model_without_enough_labels_fails_the_job_saying_so(worker, api, manager, text_project):
    import_tasks(text_project, labelled(reviews(3, seed=1)))
    configure(api, manager, text_project, engine="text_classifier", min_labels=10)

    job = run_prelabel(api, manager, text_project)

    assert job["status"] == "failed" and "needs at least 10 labelled tasks" in job["error"]
    assert not Prediction.objects.filter(project=text_project).exists()


def wait_for_events(backend: FakeMLBackend, count: int, timeout: float = 10) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = [body for path, body in backend.requests if path == "/webhook"]
        if len(events) >= count:
            return events
        time.sleep(0.05)
    raise AssertionError(f"the backend got {len(events)} webhook events, not {count}")


def test_an_http_ml_backend_pre_labels_the_tasks(worker, api, manager, annotator, text_project):
    first, *_ = import_texts(text_project, "good", "bad service", "fine")
    with FakeMLBackend() as backend:
        configure(api, manager, text_project, engine="http", url=backend.url, annotation_events=True)
        job = run_prelabel(api, manager, text_project)
        assert api(manager).post(f"/api/projects/{text_project.pk}/model/train/").status_code == 202
        wait_for_events(backend, 1)
        annotation = submit(annotator, first, [sentiment("Positive")]).json()
        training, created = wait_for_events(backend, 2)

    assert (job["status"], job["result"]["predicted"], job["result"]["model_version"]) == ("succeeded", 3, "fake-1")
    choices = [p.result[0]["value"]["choices"][0] for p in Prediction.objects.filter(project=text_project).order_by("task_id")]
    assert choices == ["Positive", "Negative", "Positive"]
    paths = [path for path, _ in backend.requests]
    assert paths[:3] == ["/health", "/setup", "/predict"]
    predict_body = backend.requests[2][1]
    assert predict_body["label_config"] == text_project.label_config and len(predict_body["tasks"]) == 3
    project = {"id": text_project.pk, "label_config": text_project.label_config}
    assert training == {"action": "START_TRAINING", "project": project}
    assert (created["action"], created["project"], created["task"]["data"]) == ("ANNOTATION_CREATED", project, {"text": "good"})
    assert (created["annotation"]["id"], created["annotation"]["result"]) == (annotation["id"], annotation["result"])


def test_one_task_the_backend_fails_on_costs_only_that_task(worker, api, manager, text_project):
    import_texts(text_project, "good", "boom", "bad", "ok")
    with FakeMLBackend() as backend:
        configure(api, manager, text_project, engine="http", url=backend.url)
        job = run_prelabel(api, manager, text_project)

    assert (job["status"], job["result"]["predicted"], job["result"]["errors"]) == ("succeeded", 3, 1)
    assert "HTTP 500" in job["result"]["error_samples"][0]["error"] and "1 task(s) got no prediction" in job["error"]


@pytest.mark.parametrize(
    ("backend", "message"),
    [(FakeMLBackend("slow", delay=3), "did not answer within 0.5 s"), (FakeMLBackend("garbage"), "malformed JSON")],
    ids=["timeout", "malformed-json"],
)
def test_a_backend_that_hangs_or_answers_garbage_fails_the_job_with_a_clear_error(worker, api, manager, text_project, backend, message):
    import_texts(text_project, *[f"text {n}" for n in range(6)])
    with backend:
        configure(api, manager, text_project, engine="http", url=backend.url, timeout=0.5)
        job = run_prelabel(api, manager, text_project)

    assert job["status"] == "failed" and message in job["error"] and backend.url in job["error"]


def test_a_backend_that_is_down_fails_the_job_with_a_clear_error(worker, api, manager, text_project):
    import_texts(text_project, "one")
    configure(api, manager, text_project, engine="http", url="http://127.0.0.1:9")  # discard port: nothing listens

    job = run_prelabel(api, manager, text_project)

    assert job["status"] == "failed" and "is unreachable" in job["error"]


def test_a_manager_cancels_a_running_job(worker, api, manager, text_project, settings):
    import_texts(text_project, *[f"text {n}" for n in range(3000)])
    with FakeMLBackend("slow", delay=0.5) as backend:
        configure(api, manager, text_project, engine="http", url=backend.url)
        started = api(manager).post(f"/api/projects/{text_project.pk}/predict/", {}, format="json").json()
        wait_until(lambda: PrelabelChunk.objects.filter(job_id=started["id"], done=True).exists(), 30,
                   "no chunk was done", interval=0.05)
        assert api(manager).post(f"/api/jobs/{started['id']}/cancel/").status_code == 200
        job = wait_for_job(started["id"], 30)

    assert job.status == "cancelled" and 0 < job.progress_done < 3000


VISIBILITY_TIMEOUT = 1  # seconds, for the workers of the next test


def unacknowledged_older_than(seconds: float) -> bool:
    """Every message delivered to a worker and not acknowledged (kombu's unacked index, scored by the wall-clock
    time of delivery) was delivered more than `seconds` ago."""
    prefix = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]
    with redis.Redis.from_url(django_settings.CELERY_BROKER_URL) as client:
        newest = client.zrange(f"{prefix}unacked_index", -1, -1, withscores=True)
    return not newest or newest[0][1] < time.time() - seconds


def test_a_worker_killed_mid_job_loses_no_chunk_and_duplicates_no_prediction(worker, api, manager, text_project):
    worker.stop()  # this test runs its own workers; the next test starts the shared one again
    import_texts(text_project, *[f"text {n}" for n in range(32)])
    # A dead worker's unacknowledged chunk comes back after the visibility timeout; one it had only just fetched
    # (Redis's BRPOP window) is sent again by the job's watchdog once no chunk finished for the stall period.
    small_chunks = {"LABELER_PRELABEL_CHUNK_SIZE": "4", "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT), "LABELER_PRELABEL_STALL_SECONDS": "2"}
    victim, successor = WorkerProcess(small_chunks), WorkerProcess(small_chunks)
    with FakeMLBackend("slow", delay=0.25) as backend:
        configure(api, manager, text_project, engine="http", url=backend.url)
        victim.start()
        started = api(manager).post(f"/api/projects/{text_project.pk}/predict/", {}, format="json").json()
        wait_until(lambda: PrelabelChunk.objects.filter(job_id=started["id"], done=True).count() >= 2, 30,
                   "two chunks were not done", interval=0.02)
        victim.kill()
        assert PrelabelChunk.objects.filter(job_id=started["id"], done=False).exists()
        # The successor hands out again, as it starts, what the dead worker had not acknowledged for that long.
        wait_until(lambda: unacknowledged_older_than(VISIBILITY_TIMEOUT), 10, "the dead worker's deliveries did not age")
        try:
            successor.start()
            job = wait_for_job(started["id"], 60)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; see the workers' logs {victim.log_path}, {successor.log_path}") from None
        finally:
            successor.stop()

    assert (job.status, job.progress_done, job.progress_total) == ("succeeded", 32, 32)
    per_task = Task.objects.filter(project=text_project).annotate(n=Count("predictions")).values_list("n", flat=True)
    assert sorted(set(per_task)) == [1]
    assert PrelabelChunk.objects.filter(job_id=started["id"]).count() == 8


def test_the_detector_boxes_a_face_in_an_uploaded_photo(worker, api, manager, image_project):
    import_optional("cv2", VISION)
    from tests.test_prelabel_engines import astronaut_png

    upload = io.BytesIO(astronaut_png())
    upload.name = "astronaut.png"
    assert api(manager).post(f"/api/projects/{image_project.pk}/import", {"file": upload}, format="multipart").status_code == 201
    configure(api, manager, image_project, engine="detector", label_map={"face": "Face"})

    job = run_prelabel(api, manager, image_project)

    assert (job["status"], job["result"]["predicted"]) == ("succeeded", 1), job
    task = Task.objects.get(project=image_project)
    [prediction] = api(manager).get(f"/api/tasks/{task.pk}/").json()["predictions"]
    assert [item["value"]["rectanglelabels"] for item in prediction["result"]] == [["Face"]]
    assert prediction["model_version"].startswith("opencv-4.")
