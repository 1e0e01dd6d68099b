"""Time project list, project detail and task-list pages on a project with N tasks (default 1,000,000).

Tasks are made with one INSERT ... SELECT generate_series on PostgreSQL (the import path is measured by
import_bench.py). Requests go through Django's full stack in this process (test client, session auth).
Usage: .venv/bin/python bench/project_api_bench.py [--tasks 1000000] [--requests 200]
"""
import argparse
import time

from _setup import bench_manager, big_text_project, percentile, setup_django

def time_requests(client, url: str, count: int) -> tuple[float, float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return percentile(samples, 0.5), percentile(samples, 0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    setup_django(args.database_url)
    from django.test import Client

    manager = bench_manager()
    started = time.perf_counter()
    project = big_text_project(manager, f"bench api {args.tasks}", args.tasks)
    print(f"project {project.pk}: {project.task_count} tasks, {project.finished_task_count} finished (ready in {time.perf_counter() - started:.1f}s)")
    client = Client()
    client.force_login(manager)
    urls = {
        "project list": "/api/projects/",
        "project detail": f"/api/projects/{project.pk}/",
        "tasks page 1": f"/api/projects/{project.pk}/tasks/?page_size=100",
        "tasks page 5000": f"/api/projects/{project.pk}/tasks/?page=5000&page_size=100",
        "tasks id_after": f"/api/projects/{project.pk}/tasks/?id_after=0&is_finished=false&page_size=100",
    }
    for name, url in urls.items():
        p50, p95 = time_requests(client, url, args.requests)
        print(f"{name:16s} p50={p50:6.1f}ms p95={p95:6.1f}ms  ({url})")


if __name__ == "__main__":
    main()
