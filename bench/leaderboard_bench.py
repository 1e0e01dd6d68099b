"""Time the model leaderboard: the pure engine on 1,000,000 battles of 50 models (targets: < 5 s without bootstrap,
< 60 s with 200 rounds), then, with --tasks N, the whole read of a project's consensus from PostgreSQL.

The battles are drawn from known strengths first and not timed; the engine's error against them is printed. The
database part makes a project of N pairwise tasks once (INSERT ... SELECT generate_series, responses of
--response-chars characters each, one consensus item per task) and times quality.leaderboard.project_leaderboard,
which is what GET /api/projects/{id}/leaderboard/ calls.
Usage: .venv/bin/python bench/leaderboard_bench.py [--battles 1000000] [--models 50] [--rounds 200]
       [--tasks 100000] [--response-chars 2000] [--database-url postgres://...]
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from quality.engine.leaderboard import ELO_POINTS_PER_NAT, MEAN_SCORE, compute_leaderboard  # noqa: E402
from quality.engine.synthetic import simulate_battles  # noqa: E402

PAIRWISE_CONFIG = ('<View><Text name="a" value="$a"/><Text name="b" value="$b"/>'
                   '<Pairwise name="pw" toName="a,b" allowTie="true"/></View>')


def timed(name: str, action):
    started = time.perf_counter()
    outcome = action()
    print(f"{name:<40} {time.perf_counter() - started:8.2f} s")
    return outcome


def bench_engine(battle_count: int, model_count: int, rounds: int) -> None:
    strengths = np.random.default_rng(0).normal(0.0, 0.8, model_count)
    battles = timed("draw battles (not counted)", lambda: simulate_battles(strengths, battle_count, tie_share=0.1, seed=1))
    print(f"{battle_count:,} battles of {model_count} models")
    run = lambda **options: compute_leaderboard(battles.model_a, battles.model_b, battles.outcome,  # noqa: E731
                                                model_count=model_count, **options)
    board = timed("engine, no bootstrap", run)
    timed(f"engine, {rounds} bootstrap rounds", lambda: run(bootstrap_rounds=rounds, seed=2))
    truth = MEAN_SCORE + ELO_POINTS_PER_NAT * (strengths - strengths.mean())
    print(f"largest error against the true scores: {np.abs(board.score - truth).max():.1f} Elo points")


def bench_database(task_count: int, response_chars: int, rounds: int, database_url: str | None) -> None:
    from _setup import bench_manager, setup_django

    setup_django(database_url)
    from quality.leaderboard import project_leaderboard

    project = pairwise_project(bench_manager(), task_count, response_chars)
    board = timed(f"project_leaderboard, {task_count:,} tasks, {rounds} rounds",
                  lambda: project_leaderboard(project, bootstrap_rounds=rounds))
    print(f"{board['battle_count']:,} battles, {len(board['models'])} models")


def pairwise_project(manager, task_count: int, response_chars: int):
    from django.db import connection

    from projects.models import Project

    title = f"leaderboard bench {task_count} x {response_chars}"
    project = Project.objects.filter(title=title).first()
    if project is not None:
        return project
    project = Project.objects.create(title=title, label_config=PAIRWISE_CONFIG, created_by=manager)
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO projects_task (project_id, data, meta, created_at, updated_at, is_gold, annotation_count,
                   cancelled_count, is_finished, consensus_result)
               SELECT %(project)s, jsonb_build_object('a', repeat('a', %(chars)s), 'b', repeat('b', %(chars)s),
                      'model_a', 'model-' || (n %% 50), 'model_b', 'model-' || ((n %% 50 + 1 + (n / 50) %% 49) %% 50)),
                   '{}'::jsonb, now(), now(), false, 1, 0, true,
                   jsonb_build_array(jsonb_build_object('from_name', 'pw', 'to_name', 'a,b', 'type', 'pairwise',
                       'value', jsonb_build_object('selected', (ARRAY['left', 'right', 'tie'])[1 + n %% 3])))
               FROM generate_series(1, %(tasks)s) AS n""",
            {"project": project.pk, "chars": response_chars, "tasks": task_count},
        )
        cursor.execute("ANALYZE projects_task")
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--battles", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=0, help="also time the read of a project of this many tasks")
    parser.add_argument("--response-chars", type=int, default=2000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    bench_engine(args.battles, args.models, args.rounds)
    if args.tasks:
        bench_database(args.tasks, args.response_chars, args.rounds, args.database_url)


if __name__ == "__main__":
    main()
