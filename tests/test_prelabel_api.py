"""Pre-labeling through the REST API without a worker: model settings, starting jobs, provenance, uncertainty."""
import pytest

from ml import hooks
from ml.models import ProjectModel, TrainingState
from projects.models import Annotation, Prediction, Task
from projects.predictions import PredictionRow, store_predictions
from tests.api_helpers import import_tasks, import_texts, sentiment, submit
from projects.models import Job
from tests.optional import VISION, import_optional


def model_url(project) -> str:
    return f"/api/projects/{project.pk}/model/"


def set_model(api, user, project, **settings):
    return api(user).put(model_url(project), {"engine": "text_classifier", **settings}, format="json")


def test_a_manager_picks_a_model_and_reads_it_back(api, manager, text_project):
    assert api(manager).get(model_url(text_project)).status_code == 409

    response = set_model(api, manager, text_project, min_labels=5, retrain_every=20, auto_prelabel=True)

    assert response.status_code == 200, response.json()
    body = api(manager).get(model_url(text_project)).json()
    assert (body["engine"], body["min_labels"], body["retrain_every"], body["auto_prelabel"]) == ("text_classifier", 5, 20, True)
    assert (body["active_version"], body["training_state"]) == (None, "idle")
    patched = api(manager).patch(model_url(text_project), {"retrain_every": 0}, format="json")
    assert (patched.status_code, patched.json()["engine"], patched.json()["retrain_every"]) == (200, "text_classifier", 0)


@pytest.mark.parametrize(
    ("settings", "field", "message"),
    [
        ({"engine": "gpt"}, "engine", "is not a valid choice"),
        ({"engine": "detector"}, "detector", "no control is of type rectanglelabels"),
        ({"engine": "text_classifier", "control": "entities"}, "detail", 'control "entities" is not of type choices'),
        ({"engine": "http"}, "detail", "needs the ML backend's url"),
        ({"engine": "http", "url": "ftp://x"}, "url", "valid URL"),
        ({"engine": "text_classifier", "min_labels": 1}, "min_labels", "greater than or equal to 2"),
        ({"engine": "text_classifier", "label_map": ["face"]}, "label_map", "object of strings"),
    ],
)
def test_settings_that_cannot_work_get_a_precise_400(api, manager, text_project, settings, field, message):
    response = api(manager).put(model_url(text_project), settings, format="json")
    assert response.status_code == 400
    assert message in str(response.json())


def test_only_managers_see_or_change_the_model_and_start_jobs(api, annotator, outsider, text_project):
    for user, code in ((annotator, 403), (outsider, 404)):
        assert set_model(api, user, text_project).status_code == code
        assert api(user).post(f"/api/projects/{text_project.pk}/predict/", {}, format="json").status_code == code
        assert api(user).post(f"/api/projects/{text_project.pk}/model/train/").status_code == code
        assert api(user).get(f"/api/projects/{text_project.pk}/model/effort/").status_code == code


def test_predict_needs_a_model_then_answers_202_with_a_job(api, manager, text_project):
    url = f"/api/projects/{text_project.pk}/predict/"
    assert api(manager).post(url, {}, format="json").status_code == 409
    set_model(api, manager, text_project)
    assert api(manager).post(url, {"only_missing": "maybe"}, format="json").status_code == 400

    response = api(manager).post(url, {"only_missing": True}, format="json")

    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["kind"], body["status"], response["Location"]) == ("prelabel", "queued", f"/api/jobs/{body['id']}/")
    assert Job.objects.get(pk=body["id"]).params == {"only_missing": True}


def test_an_annotation_records_the_prediction_it_started_from_and_how_much_changed(api, annotator, other_annotator, text_project):
    task, other = import_texts(text_project, "Lovely.", "Broken.")
    prediction = Prediction.objects.create(task=task, project=text_project, model_version="m-v1", score=0.8, result=[sentiment("Positive")])
    elsewhere = Prediction.objects.create(task=other, project=text_project, model_version="m-v1", result=[])

    wrong = submit(annotator, task, [sentiment("Positive")], prediction=elsewhere.pk)
    assert wrong.status_code == 400 and f"Prediction {elsewhere.pk} is not a prediction of this task" in str(wrong.json())
    kept = submit(annotator, task, [sentiment("Positive")], prediction=prediction.pk)
    changed = submit(other_annotator, task, [sentiment("Negative")], prediction=prediction.pk)

    assert kept.status_code == 201, kept.json()
    assert (kept.json()["prediction"], kept.json()["prediction_model_version"], kept.json()["accepted_unchanged"]) == (prediction.pk, "m-v1", True)
    assert (changed.json()["prediction_changed"], changed.json()["accepted_unchanged"]) == (1.0, False)
    edited = api(annotator).patch(f"/api/annotations/{kept.json()['id']}/", {"result": [sentiment("Neutral")]}, format="json")
    assert (edited.json()["prediction_changed"], edited.json()["accepted_unchanged"]) == (1.0, False)
    api(other_annotator).patch(f"/api/annotations/{changed.json()['id']}/", {"result": [sentiment("Positive")]}, format="json")

    effort = api(text_project.created_by).get(f"/api/projects/{text_project.pk}/model/effort/").json()
    assert effort == [{"model_version": "m-v1", "annotations": 2, "accepted_unchanged": 1, "accepted_share": 0.5, "mean_share_changed": 0.5}]


def test_stored_predictions_set_uncertainty_and_a_second_write_updates_in_place(text_project):
    first, second = import_texts(text_project, "a", "b")
    store_predictions(text_project.pk, [PredictionRow(first.pk, "v1", 0.9, []), PredictionRow(second.pk, "v1", 0.25, [])])
    store_predictions(text_project.pk, [PredictionRow(first.pk, "v1", 0.7, [])])

    assert Prediction.objects.filter(task=first).count() == 1
    uncertainty = dict(Task.objects.filter(project=text_project).values_list("id", "uncertainty"))
    assert uncertainty == {first.pk: pytest.approx(0.3), second.pk: pytest.approx(0.75)}


def test_imported_predictions_set_uncertainty(text_project):
    [task] = import_tasks(text_project, [{"data": {"text": "x"}, "predictions": [{"model_version": "ext", "score": 0.6, "result": []}]}])
    assert task.uncertainty == pytest.approx(0.4)


def test_annotations_queue_one_retraining_when_enough_have_arrived(api, manager, annotator, text_project, django_capture_on_commit_callbacks, monkeypatch):
    set_model(api, manager, text_project, retrain_every=2)
    sent = []
    monkeypatch.setattr("workers.tasks.prelabel_train.delay", lambda *args: sent.append(args))
    first, second, third = import_texts(text_project, "a", "b", "c")

    with django_capture_on_commit_callbacks(execute=True):
        submit(annotator, first)
        submit(annotator, second)
        submit(annotator, third)  # counted while the first training is queued; no second one

    assert sent == [(text_project.pk, None)]
    model = ProjectModel.objects.get(project=text_project)
    assert (model.training_state, model.new_labels) == (TrainingState.QUEUED, 1)
    assert Annotation.objects.filter(project=text_project).count() == 3


def test_an_import_starts_pre_labeling_when_the_project_says_so(api, manager, image_project, django_capture_on_commit_callbacks, monkeypatch):
    import_optional("cv2", VISION)
    assert api(manager).put(model_url(image_project), {"engine": "detector", "auto_prelabel": True}, format="json").status_code == 200
    monkeypatch.setattr("workers.tasks.plan_prelabel_job.delay", lambda job_id: None)

    with django_capture_on_commit_callbacks(execute=True):
        import_tasks(image_project, [{"image": f"/data/upload/{image_project.pk}/a.png"}])

    job = Job.objects.get(project=image_project, kind=Job.Kind.PRELABEL)
    assert (job.kind, job.params) == ("prelabel", {"only_missing": True})
    hooks.tasks_imported(project_id=image_project.pk + 1000)  # a project without a model: nothing happens


def test_the_schema_describes_the_pre_labeling_endpoints(api, manager):
    paths = api(manager).get("/api/schema/?format=json").json()["paths"]
    for path in ("/api/projects/{id}/predict/", "/api/projects/{id}/model/", "/api/projects/{id}/model/train/",
                 "/api/projects/{id}/model/versions/", "/api/projects/{id}/model/effort/"):
        assert path in paths


def test_the_watchdog_sends_unfinished_chunks_again_only_when_a_job_stalls(manager, text_project):
    from ml.models import PrelabelChunk
    from ml.prelabel import stalled_chunks
    from projects import jobs

    job = jobs.create_job(kind=Job.Kind.PRELABEL, project=text_project, created_by=manager)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, progress_done=4)
    done, waiting = (PrelabelChunk.objects.create(job=job, first_task_id=n, last_task_id=n + 3, done=d) for n, d in ((1, True), (5, False)))

    assert stalled_chunks(job.pk, last_done=0) == ([], 4)  # it moved since the last look
    assert stalled_chunks(job.pk, last_done=4) == ([waiting.pk], 4)
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    assert stalled_chunks(job.pk, last_done=4) == (None, 0)
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELLED


def test_the_span_tagger_trains_on_the_projects_span_annotations(api, manager, text_project):
    from ml.loading import build_engine
    from ml.engines.base import TaskInput
    from ml.training import train_project_model
    from tests.api_helpers import span
    from tests.ml_data import entity_sentences

    import_tasks(text_project, [
        {"data": {"text": text}, "annotations": [{"result": [span(text, start, end, label) for start, end, label in spans]}]}
        for text, spans in entity_sentences(30, seed=11)
    ] + [{"data": {"text": "Nobody marked the spans of Alice in Paris."}, "annotations": [{"result": [sentiment("Neutral")]}]}])
    assert set_model(api, manager, text_project, engine="span_tagger", min_labels=10).status_code == 200

    version = train_project_model(text_project.pk)

    assert (version.version, version.trained_on, version.metrics["spans"]) == ("span_tagger-v1", 30, {"LOC": 30, "PER": 30})
    model = ProjectModel.objects.get(project=text_project)
    assert model.active_version == version
    [suggestion] = build_engine(model, text_project.label_config, version).predict([TaskInput(1, {"text": "Goran flew to Lima on Monday."})])
    assert {(item["value"]["text"], item["value"]["labels"][0]) for item in suggestion.result} == {("Goran", "PER"), ("Lima", "LOC")}
