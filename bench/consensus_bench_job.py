"""Time the consensus pipeline on PostgreSQL: the project recompute job over N tasks x 3 annotations (default
100,000), and, with --latency, how soon a real Celery worker stores a task's consensus after its last
annotation. The engine alone is timed by consensus_bench.py.

Annotations are made with one INSERT ... SELECT: two careful annotators who agree with a hidden truth 90% of the
time and a third who answers at random. The recompute runs in this process (the job's body), so the peak
memory covers it. Usage:
  .venv/bin/python bench/consensus_bench_job.py [--tasks 100000]
  .venv/bin/python bench/consensus_bench_job.py --latency 50
"""
import argparse
import os
import subprocess
import sys
import time

from _setup import bench_manager, big_text_project, peak_rss_mb, percentile, setup_django

ANNOTATORS = 3


def crowd(project) -> list:
    from django.contrib.auth import get_user_model

    from projects import services
    from projects.models import Role

    people = []
    for index in range(ANNOTATORS):
        user, _ = get_user_model().objects.get_or_create(username=f"bench-crowd-{index}")
        services.add_member(project=project, user=user, role=Role.ANNOTATOR)
        people.append(user)
    return people


def annotate_everything(project, people) -> None:
    """Three annotations per task in one statement, then the counters from the rows."""
    from django.db import connection

    from projects import services

    if project.annotation_count:
        return
    with connection.cursor() as cursor:
        for index, person in enumerate(people):
            answer = (
                "CASE WHEN random() < 0.5 THEN 'A' ELSE 'B' END" if index == ANNOTATORS - 1 else
                "CASE WHEN (random() < 0.9) = (t.id %% 2 = 0) THEN 'A' ELSE 'B' END"
            )
            cursor.execute(
                f"""INSERT INTO projects_annotation (task_id, project_id, completed_by_id, result, lead_time,
                        was_cancelled, cancel_reason, version, created_at, updated_at)
                    SELECT t.id, t.project_id, %s,
                        jsonb_build_array(jsonb_build_object('from_name', 'c', 'to_name', 'text', 'type', 'choices',
                            'value', jsonb_build_object('choices', jsonb_build_array({answer})))),
                        2 + random() * 10, false, '', 1, now() - (t.id || ' seconds')::interval, now()
                    FROM projects_task t WHERE t.project_id = %s""",
                [person.pk, project.pk],
            )
        cursor.execute("ANALYZE projects_annotation")
    services.recount_project(project)
    project.refresh_from_db()


def time_recompute(project) -> None:
    from projects import jobs
    from projects.models import Job
    from workers.tasks import run_consensus_job

    job = jobs.create_job(kind=Job.Kind.CONSENSUS, project=project, created_by=bench_manager(), total=project.finished_task_count)
    before = peak_rss_mb()
    started = time.perf_counter()
    run_consensus_job(job.pk)  # the Celery task, run in this process
    elapsed = time.perf_counter() - started
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    print(f"recompute {job.result['tasks']} tasks x {ANNOTATORS}: {elapsed:.1f}s, method {job.result['method']}, "
          f"peak RSS {peak_rss_mb():.0f} MB (before {before:.0f} MB); {job.result['dawid_skene']}")


def time_latency(count: int) -> None:
    """Submit the last of three annotations on fresh tasks; time until the worker has stored the consensus."""
    from django.conf import settings

    from projects.models import Task
    from projects.services import submit_annotation

    project = big_text_project(bench_manager(), "bench consensus latency", 0, overlap=3)
    people = crowd(project)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "labeler", "worker", "--pool=solo", "--queues=default",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"],
        env={**os.environ}, cwd=settings.BASE_DIR,
    )
    try:
        time.sleep(4)  # worker start-up
        samples = []
        result = [{"from_name": "c", "to_name": "text", "type": "choices", "value": {"choices": ["A"]}}]
        for _ in range(count):
            task = Task.objects.create(project=project, data={"text": "latency"})
            for person in people[:-1]:
                submit_annotation(task=task, author=person, result=result)
            started = time.perf_counter()
            submit_annotation(task=task, author=people[-1], result=result)
            while not Task.objects.filter(pk=task.pk, consensus_at__isnull=False).exists():
                time.sleep(0.005)
            samples.append((time.perf_counter() - started) * 1000)
        print(f"consensus after the last annotation ({count} tasks): p50={percentile(samples, 0.5):.0f}ms "
              f"p95={percentile(samples, 0.95):.0f}ms max={max(samples):.0f}ms")
    finally:
        worker.terminate()
        worker.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--latency", type=int, help="measure per-task consensus latency over this many tasks instead")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")
    setup_django(args.database_url)
    if args.latency:
        time_latency(args.latency)
        return
    project = big_text_project(bench_manager(), f"bench consensus {args.tasks}", args.tasks, overlap=ANNOTATORS)
    annotate_everything(project, crowd(project))
    print(f"project {project.pk}: {project.task_count} tasks, {project.annotation_count} annotations")
    time_recompute(project)


if __name__ == "__main__":
    main()
