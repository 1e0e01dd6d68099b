"""Time GET /api/projects/{id}/next/ with many annotators working one big project at once (default: 16 annotators,
1,000,000 tasks, overlap 2).

Each annotator is a separate process running Django's full request stack in-process (test client, session
auth), in a loop: ask for the next task (timed), think, submit an annotation. `--think-ms 0` hammers the server
with no pause, the worst case; on a 2-core machine 16 busy processes then queue for the CPU, which the figures
include. Every run consumes tasks, so the project is found again and keeps going on later runs.
Usage: .venv/bin/python bench/queue_bench.py [--tasks 1000000] [--annotators 16] [--rounds 60] [--think-ms 250]
"""
import argparse
import multiprocessing
import random
import time

from _setup import bench_manager, big_text_project, percentile, setup_django


def annotators(project, count: int) -> list[int]:
    from django.contrib.auth import get_user_model

    from projects import services
    from projects.models import Role

    ids = []
    for index in range(count):
        user, _ = get_user_model().objects.get_or_create(username=f"bench-annotator-{index}")
        services.add_member(project=project, user=user, role=Role.ANNOTATOR)
        ids.append(user.pk)
    return ids


def work(user_id: int, project_id: int, rounds: int, think_ms: int, ready, results) -> None:
    """One annotator's session; puts its next/ latencies (ms) on the results queue."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(pk=user_id))
    # Warm up (connection, lazy imports, first-use caches) so the figures are a running server's.
    warm = client.get(f"/api/projects/{project_id}/next/")
    if warm.status_code == 200:
        client.post(f"/api/projects/{project_id}/release/", {"tasks": [warm.json()["id"]]}, content_type="application/json")
    ready.wait()
    time.sleep(random.uniform(0, think_ms / 1000))  # annotators do not all click at the same instant
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(f"/api/projects/{project_id}/next/")
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code == 204:
            break
        task_id = response.json()["id"]
        time.sleep(random.uniform(0.5, 1.5) * think_ms / 1000)
        body = {"result": [{"from_name": "c", "to_name": "text", "type": "choices", "value": {"choices": ["A"]}}], "lead_time": 1.0}
        submitted = client.post(f"/api/tasks/{task_id}/annotations/", body, content_type="application/json")
        assert submitted.status_code == 201, submitted.content
    results.put(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--annotators", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=60, help="tasks each annotator takes")
    parser.add_argument("--think-ms", type=int, default=250, help="mean pause between receiving and submitting a task")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    setup_django(args.database_url)
    from django.db import connections

    project = big_text_project(bench_manager(), f"bench queue {args.tasks}", args.tasks, overlap=2)
    user_ids = annotators(project, args.annotators)
    print(f"project {project.pk}: {project.task_count} tasks, {project.finished_task_count} finished, overlap {project.overlap}")
    connections.close_all()  # each process opens its own connection

    results = multiprocessing.Queue()
    ready = multiprocessing.Barrier(len(user_ids) + 1)
    processes = [
        multiprocessing.Process(target=work, args=(user_id, project.pk, args.rounds, args.think_ms, ready, results))
        for user_id in user_ids
    ]
    for process in processes:
        process.start()
    ready.wait()
    started = time.perf_counter()
    samples = [sample for _ in processes for sample in results.get()]
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    print(
        f"{args.annotators} annotators, think {args.think_ms} ms: {len(samples)} next/ calls in {elapsed:.1f}s "
        f"({len(samples) / elapsed:.0f}/s)  p50={percentile(samples, 0.5):.1f}ms  p95={percentile(samples, 0.95):.1f}ms  "
        f"p99={percentile(samples, 0.99):.1f}ms  max={max(samples):.1f}ms"
    )


if __name__ == "__main__":
    main()
