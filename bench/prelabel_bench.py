"""Pre-labeling through a real Celery worker, end to end: the text classifier over N text tasks, and the image
detector's images per second on 640x480 images with the job's overhead per image beyond the model's own time.

The worker is one `celery worker` process (prefork, --concurrency 2 for text, 1 for images, so the detector's
per-image overhead compares one job process with one in-process model run). Broker: REDIS_URL, default
redis://127.0.0.1:6379/13, with a key prefix of its own.
Usage: .venv/bin/python bench/prelabel_bench.py [--tasks 100000] [--images 60] [--skip-text] [--skip-images]
"""
import argparse
import io
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from _setup import bench_manager, peak_rss_mb, setup_django

TEXT_CONFIG = ('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
               '<Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/></Choices></View>')
IMAGE_CONFIG = ('<View><Image name="image" value="$image"/><RectangleLabels name="box" toName="image">'
                '<Label value="Face"/><Label value="Person"/></RectangleLabels></View>')
WORDS = {
    "Positive": "great excellent love perfect wonderful happy amazing superb delighted fantastic".split(),
    "Negative": "awful terrible broken hate refund poor disappointing useless worst faulty".split(),
    "Neutral": "delivered package arrived box ordered shipment received item color size".split(),
}
FILLER = "the a it was and this product my i with for of to in very is".split()
LABELLED = 300


def review(label: str, rng: random.Random) -> str:
    words = rng.sample(WORDS[label], 3) + rng.sample(FILLER, 8)
    rng.shuffle(words)
    return " ".join(words)


class Worker:
    def __init__(self, concurrency: int):
        self.log_path = f"/tmp/labeler-bench-worker-{os.getpid()}.log"
        command = [sys.executable, "-m", "celery", "-A", "labeler", "worker", "--queues=default,ml",
                   f"--concurrency={concurrency}", "--without-gossip", "--without-mingle", "--loglevel=WARNING",
                   f"--hostname=bench-{os.getpid()}-{concurrency}@%h"]
        env = {**os.environ, "DB_CONN_MAX_AGE": "60"}
        self.process = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parent.parent,
                                        stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT)
        from labeler.celery import app

        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f"the worker did not start; see {self.log_path}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def run_job(project, manager) -> tuple[float, dict]:
    from django.db import transaction

    from ml import services
    from projects.models import Job

    started = time.perf_counter()
    with transaction.atomic():
        job = services.start_prelabel(project=project, user=manager)
    while not Job.objects.get(pk=job.pk).is_finished:
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    job.refresh_from_db()
    assert job.status == "succeeded", (job.status, job.error)
    return elapsed, job.result


def text_project(manager, count: int):
    from projects import services
    from projects.imports.bulk import TaskRow, insert_tasks
    from projects.models import Annotation, Project

    rng = random.Random(0)
    labels = sorted(WORDS)
    project = services.create_project(creator=manager, title=f"bench prelabel {count}", label_config=TEXT_CONFIG)
    truth = [labels[index % 3] for index in range(count)]
    for start in range(0, count, 20_000):
        rows = [TaskRow(data={"text": review(label, rng)}, meta={}) for label in truth[start:start + 20_000]]
        task_ids = insert_tasks(project.pk, rows)
        if start == 0:
            Annotation.objects.bulk_create([
                Annotation(task_id=task_id, project=project, result=[{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [label]}}])
                for task_id, label in zip(task_ids[:LABELLED], truth[:LABELLED])
            ])
    Project.objects.filter(pk=project.pk).update(task_count=count)
    return project


def bench_text(manager, count: int) -> None:
    from ml.models import ProjectModel
    from ml.training import train_project_model
    from projects.models import Prediction

    project = text_project(manager, count)
    ProjectModel.objects.create(project=project, engine="text_classifier", retrain_every=0)
    started = time.perf_counter()
    version = train_project_model(project.pk)
    trained = time.perf_counter() - started
    worker = Worker(concurrency=2)
    try:
        elapsed, result = run_job(project, manager)
    finally:
        worker.stop()
    assert Prediction.objects.filter(project=project).count() == count
    print(f"text: tasks={count} labelled={LABELLED} training={trained:.2f}s holdout_accuracy={version.metrics.get('holdout_accuracy')} "
          f"job={elapsed:.2f}s end_to_end_rate={count / elapsed:,.0f} tasks/s predicted={result['predicted']} "
          f"(one worker, 2 processes; peak RSS of this process {peak_rss_mb():.0f}MB)")


def photo_640x480(index: int) -> bytes:
    """A 640x480 PNG: scikit-image's astronaut photo (when installed) on a noisy background, shifted per image."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(index)
    canvas = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    try:
        from skimage import data

        photo = np.asarray(Image.fromarray(data.astronaut()).resize((400, 400)))
        left = index % 240
        canvas[40:440, left:left + 400] = photo
    except ImportError:
        pass
    buffer = io.BytesIO()
    Image.fromarray(canvas).save(buffer, format="PNG")
    return buffer.getvalue()


def bench_images(manager, count: int) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from ml.engines.base import pick_target
    from ml.engines.detector import Detector
    from ml.loading import read_task_image
    from ml.models import ProjectModel
    from projects import services
    from projects.imports.bulk import TaskRow, insert_tasks
    from projects.label_config import parse_label_config

    project = services.create_project(creator=manager, title=f"bench detector {count}", label_config=IMAGE_CONFIG)
    urls = []
    for index in range(count):
        name = default_storage.save(f"uploads/{project.pk}/bench-{index}.png", ContentFile(photo_640x480(index)))
        urls.append(f"/data/upload/{project.pk}/{name.rsplit('/', 1)[-1]}")
    insert_tasks(project.pk, [TaskRow(data={"image": url}, meta={}) for url in urls])
    ProjectModel.objects.create(project=project, engine="detector")
    target = pick_target(parse_label_config(IMAGE_CONFIG), {"rectanglelabels"})
    detector = Detector(target=target, label_map={"face": "Face", "person": "Person"}, read_image=read_task_image)
    detector.predict([])
    started = time.perf_counter()
    for url in urls:  # the model's own time: read, decode, detect
        detector.detect(detector._decode(read_task_image(url)))
    model_time = (time.perf_counter() - started) / count
    worker = Worker(concurrency=1)
    try:
        run_job(project, manager)  # warm the worker process (imports OpenCV, loads the detectors)
        elapsed, result = run_job(project, manager)
    finally:
        worker.stop()
    per_image, in_model = elapsed / count, result["model_seconds"] / count
    print(f"images: count={count} 640x480, one worker process: job={1000 * per_image:.1f}ms/image ({count / elapsed:.1f} images/s), "
          f"of which the model (read, decode, detect) {1000 * in_model:.1f}ms and the job's overhead "
          f"{1000 * (per_image - in_model):.1f}ms/image; the same model in this process: {1000 * model_time:.1f}ms/image; "
          f"boxes found in {result['predicted']} images")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--images", type=int, default=60)
    parser.add_argument("--skip-text", action="store_true")
    parser.add_argument("--skip-images", action="store_true")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
    os.environ["CELERY_KEY_PREFIX"] = f"labeler-bench-{os.getpid()}:"
    setup_django(args.database_url)
    manager = bench_manager()
    if not args.skip_text:
        bench_text(manager, args.tasks)
    if not args.skip_images:
        bench_images(manager, args.images)


if __name__ == "__main__":
    main()
