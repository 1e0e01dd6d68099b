"""The LLM judge through a real Celery worker against llama-cpp-python's real server: tasks judged per second, and
how much of the job's time is the judge server's. The server serves the tests' tiny random model (it answers in
~10-30 ms), so the figure is Labeler's own cost per judged task (two asks per task: both orders), not a real LLM's.

Usage: .venv/bin/python bench/judge_bench.py [--tasks 2000] [--concurrency 2]
"""
import argparse
import os
import sys
import tempfile
from pathlib import Path

from _setup import bench_manager, setup_django
from prelabel_bench import Worker, run_job

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.llm_servers import TINY_MODEL_NAME, LlamaServer, write_tiny_model  # noqa: E402


def judged_project(manager, count: int):
    from projects import services
    from projects.imports.bulk import TaskRow, insert_tasks
    from projects.models import Project
    from tests.test_llm_judge import JUDGED_CONFIG, battle

    project = services.create_project(creator=manager, title=f"bench judge {count}", label_config=JUDGED_CONFIG)
    rows = [TaskRow(data=battle(f"What is {n} + {n}?", f"It is {2 * n}.", "I do not know."), meta={}) for n in range(count)]
    insert_tasks(project.pk, rows)
    Project.objects.filter(pk=project.pk).update(task_count=count)
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
    os.environ["CELERY_KEY_PREFIX"] = f"labeler-bench-{os.getpid()}:"
    os.environ["LABELER_OUTBOUND_ALLOWED_HOSTS"] = "127.0.0.1"
    setup_django(args.database_url)
    from ml.models import ProjectModel

    folder = Path(tempfile.mkdtemp(prefix="judge-bench-"))
    server = LlamaServer(write_tiny_model(folder / "tiny.gguf"), folder / "server.log")
    server.start()
    worker = Worker(concurrency=args.concurrency)
    try:
        manager = bench_manager()
        project = judged_project(manager, args.tasks)
        ProjectModel.objects.create(project=project, engine="llm_judge", url=server.url, llm_model=TINY_MODEL_NAME,
                                    structured_output="json_object")
        elapsed, result = run_job(project, manager)
    finally:
        worker.stop()
        server.stop()
    print(f"judge: tasks={args.tasks} asks={2 * args.tasks} worker processes={args.concurrency} job={elapsed:.2f}s "
          f"rate={args.tasks / elapsed:,.1f} tasks/s predicted={result['predicted']} errors={result['errors']} "
          f"time inside the judge calls={result['model_seconds']:.1f}s (summed over processes)")


if __name__ == "__main__":
    main()
