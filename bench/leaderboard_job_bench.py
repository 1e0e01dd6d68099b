"""The model leaderboard as a job over HTTP: a pairwise project of N tasks (default 1,000,000) judged between 50
models, each task with one annotation and its consensus, seeded by bulk SQL into PostgreSQL; then a real server
(gunicorn, as `make run` starts it) and a real `celery worker`, `POST /api/projects/{id}/leaderboard/` and a poll
of `GET /api/jobs/{id}/` until the job is done, for each bootstrap setting. Targets at 1,000,000: < 5 s without
bootstrap, < 60 s with 200 rounds.

The responses are real-looking text (random words, about --response-chars characters each), so the task data is
stored compressed as it would be, and the outcomes are drawn from known strengths (Bradley-Terry), then 10% of
them made ties regardless of strength, which pulls the fitted scores about a tenth towards the mean: the largest
distance from the true scores that is printed includes that. The project is made once and found again by title.
Usage: .venv/bin/python bench/leaderboard_job_bench.py [--tasks 1000000] [--models 50] [--rounds 0,200]
       [--source consensus] [--response-chars 1500] [--database-url postgres://...]
Broker: REDIS_URL (default redis://127.0.0.1:6379/11).
"""
import argparse
import os
import subprocess
import time
from pathlib import Path

from _setup import bench_manager, free_port, setup_django, stop_process_group, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
PAIRWISE_CONFIG = ('<View><Text name="prompt" value="$prompt"/><Text name="a" value="$a"/><Text name="b" value="$b"/>'
                   '<Pairwise name="pw" toName="a,b" allowTie="true"/></View>')
ELO_SPREAD = 8.0  # model i's true score is 1000 + ELO_SPREAD * (i - (models - 1) / 2)
TIE_SHARE = 0.1
PASSWORD = "bench-manager-password"
VOCABULARY = ("the model answer question because however therefore data system result first second value "
              "example python function return error user request server memory time large small number list "
              "string table query index because which where when often never always clear simple step").split()


def seed_project(manager, task_count: int, model_count: int, response_chars: int):
    from django.db import connection, transaction

    from projects import services
    from projects.models import Project

    title = f"leaderboard job bench {task_count} x {model_count} x {response_chars} (with response_models)"
    project = Project.objects.filter(title=title).first()
    if project is not None:
        return project
    project = services.create_project(creator=manager, title=title, label_config=PAIRWISE_CONFIG)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(SEED_SQL, {"project": project.pk, "tasks": task_count, "models": model_count,
                                  "spread": ELO_SPREAD, "tie": TIE_SHARE, "user": manager.pk,
                                  "words": VOCABULARY, "response_words": max(1, response_chars // 6)})
        cursor.execute("ANALYZE projects_task")
        cursor.execute("ANALYZE projects_annotation")
    services.recount_project(project)
    print(f"seeded {task_count:,} tasks and annotations in {time.perf_counter() - started:.1f} s")
    project.refresh_from_db()
    return project


# A thousand responses of random words, reused across tasks in different pairs; then per task its two models
# (every pair in turn), an outcome drawn from their true scores, the consensus item and one annotation.
SEED_SQL = """
CREATE TEMP TABLE bench_responses ON COMMIT DROP AS
  SELECT r, (SELECT string_agg((%(words)s::text[])[1 + floor(random() * array_length(%(words)s::text[], 1))::int], ' ')
             FROM generate_series(1, %(response_words)s + 0 * r)) AS body
  FROM generate_series(0, 999) AS r;
CREATE TEMP TABLE bench_battles ON COMMIT DROP AS
  SELECT n, a, b, CASE WHEN u < %(tie)s THEN 'tie'
                       WHEN random() < 1 / (1 + power(10, %(spread)s * (b - a) / 400.0)) THEN 'left' ELSE 'right' END AS selected
  FROM (SELECT n, n %% %(models)s AS a, (n %% %(models)s + 1 + (n / %(models)s) %% (%(models)s - 1)) %% %(models)s AS b,
               random() AS u
        FROM generate_series(1, %(tasks)s) AS n) AS drawn;
WITH inserted AS (
  INSERT INTO projects_task (project_id, data, meta, created_at, updated_at, is_gold, annotation_count, cancelled_count,
                             is_finished, consensus_result, agreement, consensus_method, consensus_confidence, consensus_at,
                             response_models)
  SELECT %(project)s,
         jsonb_build_object('prompt', 'Question ' || n, 'a', ra.body, 'b', rb.body,
                            'model_a', 'model-' || lpad(a::text, 2, '0'), 'model_b', 'model-' || lpad(b::text, 2, '0'),
                            'bench_n', n),
         '{}'::jsonb, now(), now(), false, 1, 0, true,
         jsonb_build_array(jsonb_build_object('id', 'c' || n, 'from_name', 'pw', 'to_name', 'a,b', 'type', 'pairwise',
                                              'value', jsonb_build_object('selected', selected))),
         1.0, 'majority', 1.0, now(),
         -- what an import stores beside the data (projects.label_config.response_models)
         jsonb_build_object('model_a', 'model-' || lpad(a::text, 2, '0'), 'model_b', 'model-' || lpad(b::text, 2, '0'))
  FROM bench_battles
  JOIN bench_responses AS ra ON ra.r = n %% 1000
  JOIN bench_responses AS rb ON rb.r = (n * 7 + 3) %% 1000
  RETURNING id, (data ->> 'bench_n')::bigint AS n, consensus_result
)
INSERT INTO projects_annotation (task_id, project_id, completed_by_id, result, lead_time, was_cancelled, cancel_reason,
                                 version, prediction_model_version, created_at, updated_at)
SELECT id, %(project)s, %(user)s,
       jsonb_build_array((consensus_result -> 0) || jsonb_build_object('id', 'a' || n)), 12.5, false, '', 1, '', now(), now()
FROM inserted;
"""


def start(command: list[str], log_name: str, env: dict) -> subprocess.Popen:
    log = open(Path(os.environ["LABELER_VAR_DIR"]) / log_name, "wb")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def start_services(port: int) -> tuple[subprocess.Popen, subprocess.Popen]:
    from django.core.management import call_command

    from labeler.celery import app
    from labeler.launcher import web_command, worker_command

    call_command("collectstatic", interactive=False, verbosity=0)
    # The launcher's commands read these from this process's environment.
    os.environ.update({"DEBUG": "false", "PORT": str(port), "LOG_LEVEL": "WARNING", "CELERY_CONCURRENCY": "1"})
    server = start(web_command("127.0.0.1"), "leaderboard-bench-server.log", dict(os.environ))
    worker = start(worker_command(), "leaderboard-bench-worker.log", dict(os.environ))
    try:
        wait_for_port(port, server, "its log in LABELER_VAR_DIR")
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError("the worker did not start; see its log in LABELER_VAR_DIR")
    except BaseException:
        stop_process_group(server)
        stop_process_group(worker)
        raise
    return server, worker


def api_token(base: str, manager) -> str:
    import requests

    manager.set_password(PASSWORD)
    manager.save(update_fields=["password"])
    answer = requests.post(f"{base}/api/auth/token/", json={"username": manager.username, "password": PASSWORD}, timeout=30)
    answer.raise_for_status()
    return answer.json()["token"]


def run_job(base: str, token: str, project_id: int, source: str, rounds: int) -> tuple[float, dict, dict]:
    """POST the job, poll it every 200 ms until it is done; (seconds from POST to done, the job, the GET answer)."""
    import requests

    headers = {"Authorization": f"Token {token}"}
    started = time.perf_counter()
    answer = requests.post(f"{base}/api/projects/{project_id}/leaderboard/", json={"source": source, "bootstrap": rounds},
                           headers=headers, timeout=30)
    assert answer.status_code == 202, (answer.status_code, answer.text)
    job_url = f"{base}{answer.json()['url']}"
    while True:
        job = requests.get(job_url, headers=headers, timeout=30).json()
        if job["status"] not in ("queued", "running"):
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    assert job["status"] == "succeeded", job
    board = requests.get(f"{base}/api/projects/{project_id}/leaderboard/", params={"source": source, "bootstrap": rounds},
                         headers=headers, timeout=60)
    assert board.status_code == 200, (board.status_code, board.text[:500])
    return elapsed, job, board.json()


def largest_error(board: dict, model_count: int) -> float:
    """The fitted scores' largest distance from the true ones (both with the models' mean at 1000)."""
    truth = {f"model-{i:02d}": 1000 + ELO_SPREAD * (i - (model_count - 1) / 2) for i in range(model_count)}
    return max(abs(row["score"] - truth[row["model"]]) for row in board["models"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--rounds", default="0,200", help="bootstrap settings to time, comma-separated")
    parser.add_argument("--source", default="consensus", choices=("consensus", "annotations"))
    parser.add_argument("--response-chars", type=int, default=1500)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/labeler_lbjob_bench")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/11")
    os.environ.setdefault("CELERY_KEY_PREFIX", "leaderboard-bench:")
    setup_django(args.database_url)

    manager = bench_manager()
    project = seed_project(manager, args.tasks, args.models, args.response_chars)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server, worker = start_services(port)
    lines = [f"{args.tasks:,} tasks, {args.models} models, source {args.source}; database {os.environ['DATABASE_URL']}"]
    try:
        token = api_token(base, manager)
        for rounds in (int(value) for value in args.rounds.split(",")):
            elapsed, job, board = run_job(base, token, project.pk, args.source, rounds)
            result = job["result"]
            lines.append(f"bootstrap {rounds:>4}: POST to done {elapsed:6.2f} s (job {result.get('seconds')}) "
                         f"{board['battle_count']:,} battles, largest error {largest_error(board, args.models):.1f} Elo; "
                         f"load average {os.getloadavg()[0]:.2f}")
    finally:
        stop_process_group(server)
        stop_process_group(worker)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
