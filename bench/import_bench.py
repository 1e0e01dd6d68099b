"""Import N text tasks through the import API as one JSON file, and time it end to end.

The request (checks every task, stages the file, answers 202) goes through Django's test client in this
process; the job body (what the Celery worker runs) then runs here too, so one process's peak memory covers
both. Usage: .venv/bin/python bench/import_bench.py --tasks 100000 [--database-url postgres://...]
"""
import argparse
import json
import tempfile
import time

from _setup import bench_manager, peak_rss_mb, setup_django

TEXT_CONFIG = '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>'


def write_task_file(count: int) -> str:
    path = tempfile.mktemp(suffix=".json", prefix="labeler-bench-")
    with open(path, "w") as out:
        out.write("[")
        for index in range(count):
            if index:
                out.write(",")
            out.write(json.dumps({"data": {"text": f"Review number {index}: the product arrived on time and works as described."}}))
        out.write("]")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    setup_django(args.database_url)

    from django.test import Client

    from projects import services
    from projects.models import Job, Task
    from workers.tasks import run_import_job

    path = write_task_file(args.tasks)
    manager = bench_manager()
    project = services.create_project(creator=manager, title=f"bench import {args.tasks}", label_config=TEXT_CONFIG)
    client = Client()
    client.force_login(manager)
    started = time.perf_counter()
    with open(path, "rb") as upload:
        response = client.post(f"/api/projects/{project.pk}/import", {"file": upload})
    answered = time.perf_counter()
    assert response.status_code in (201, 202), response.content
    if response.status_code == 202:
        run_import_job(response.json()["id"])  # the Celery task, run in this process
        job = Job.objects.get(pk=response.json()["id"])
        assert job.status == "succeeded", job.error
    finished = time.perf_counter()
    imported = Task.objects.filter(project=project).count()
    assert imported == args.tasks, imported
    print(f"tasks={args.tasks} request={answered - started:.2f}s job={finished - answered:.2f}s "
          f"total={finished - started:.2f}s rate={args.tasks / (finished - started):,.0f} tasks/s peak_rss={peak_rss_mb():.0f}MB")


if __name__ == "__main__":
    main()
