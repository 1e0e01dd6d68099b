"""Export N tasks with 3 annotations each through GET /api/projects/{id}/export, the real streaming path.

Projects are made once per size with INSERT ... SELECT generate_series on PostgreSQL (a text project for JSON,
an image project with two boxes per annotation for COCO, a prompt with two responses and one pairwise judgment
per task for PREFERENCE_JSONL: N pairs) and reused on later runs. The request goes through
Django's full stack in this process (test client, session auth); the streamed body is read and thrown away
while a thread samples this process's RSS every 20 ms, so "RSS growth" is what serving the export added.
`cpu` is this process's CPU time (the database's work is not in it): on a busy machine it moves less than
the wall-clock `time`, and `load` is the 1-minute load average at the end, to judge a run by.
Usage: .venv/bin/python bench/export_bench.py [--tasks 100000] [--formats JSON,COCO,PREFERENCE_JSONL] [--database-url postgres://...]
"""
import argparse
import json
import os
import threading
import time

from _setup import bench_manager, peak_rss_mb, setup_django

TEXT_CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
<Labels name="entities" toName="text"><Label value="PER"/><Label value="LOC"/></Labels></View>"""
IMAGE_CONFIG = """<View><Image name="image" value="$image"/>
<RectangleLabels name="box" toName="image"><Label value="Face"/><Label value="Person"/></RectangleLabels></View>"""
TEXT = "Ann flew from London to Paris and loved every minute of it."
TEXT_RESULT = [
    {"id": "s1", "from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}},
    {"id": "e1", "from_name": "entities", "to_name": "text", "type": "labels", "value": {"start": 0, "end": 3, "text": "Ann", "labels": ["PER"]}},
    {"id": "e2", "from_name": "entities", "to_name": "text", "type": "labels", "value": {"start": 14, "end": 20, "text": "London", "labels": ["LOC"]}},
]
IMAGE_RESULT = [
    {"id": f"b{index}", "from_name": "box", "to_name": "image", "type": "rectanglelabels", "original_width": 640,
     "original_height": 480, "value": {"x": x, "y": 10.0, "width": 30.0, "height": 40.0, "rotation": 0, "rectanglelabels": [label]}}
    for index, (x, label) in enumerate(((5.0, "Face"), (50.0, "Person")))
]
PREFERENCE_CONFIG = """<View><Text name="prompt" value="$prompt"/><Text name="a" value="$response_a"/>
<Text name="b" value="$response_b"/><Pairwise name="pw" toName="a,b"/></View>"""
PREFERENCE_RESULT = [{"id": "p1", "from_name": "pw", "to_name": "a,b", "type": "pairwise", "value": {"selected": "left"}}]
ANSWER = "A careful answer that walks through the steps, names its assumptions and ends with a short summary. " * 3
KINDS = {"JSON": ("text", TEXT_CONFIG), "COCO": ("image", IMAGE_CONFIG), "PREFERENCE_JSONL": ("preference", PREFERENCE_CONFIG)}
# Per kind: the task data as SQL over the series' n (with its parameters), the result, annotations per task.
DATA_SQL = {
    "text": ("jsonb_build_object('text', 'Review ' || n || ': ' || %s)", [TEXT]),
    "image": ("jsonb_build_object('image', 'https://images.example.com/photos/' || n || '.jpg')", []),
    "preference": ("jsonb_build_object('prompt', 'Question ' || n || '?', 'response_a', 'A: ' || %s, "
                   "'response_b', 'B: ' || %s, 'model_a', 'alpha', 'model_b', 'beta')", [ANSWER, ANSWER]),
}
RESULTS = {"text": (TEXT_RESULT, 3), "image": (IMAGE_RESULT, 3), "preference": (PREFERENCE_RESULT, 1)}


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def bench_project(manager, kind: str, config: str, task_count: int):
    from django.contrib.auth import get_user_model
    from django.db import connection

    from projects import services
    from projects.models import Project

    title = f"bench export {kind} {task_count}"
    project = Project.objects.filter(title=title).first()
    if project is not None:
        return project
    project = services.create_project(creator=manager, title=title, label_config=config)
    result, per_task = RESULTS[kind]
    annotators = [get_user_model().objects.get_or_create(username=f"bench-annotator-{n}")[0].pk for n in range(per_task)]
    data, data_params = DATA_SQL[kind]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO projects_task (project_id, data, meta, created_at, updated_at, is_gold,
                    annotation_count, cancelled_count, is_finished)
                SELECT %s, {data}, '{{}}'::jsonb, now(), now(), false, {per_task}, 0, true FROM generate_series(1, %s) AS n""",
            [project.pk, *data_params, task_count],
        )
        cursor.execute(
            """INSERT INTO projects_annotation (task_id, project_id, completed_by_id, result, lead_time, was_cancelled,
                    cancel_reason, version, created_at, updated_at)
               SELECT task.id, task.project_id, annotator.id, %s::jsonb, 12.5, false, '', 1, now(), now()
               FROM projects_task AS task CROSS JOIN unnest(%s::bigint[]) AS annotator(id)
               WHERE task.project_id = %s""",
            [json.dumps(result), annotators, project.pk],
        )
        cursor.execute("ANALYZE projects_task; ANALYZE projects_annotation")
    services.recount_project(project)
    project.refresh_from_db()
    return project


class RssSampler(threading.Thread):
    """The highest RSS seen, sampled every 20 ms while the export runs (a writer may go long between pieces)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.highest = current_rss_mb()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.highest = max(self.highest, current_rss_mb())


def time_export(client, project, export_type: str) -> None:
    before = current_rss_mb()
    sampler = RssSampler()
    sampler.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    response = client.get(f"/api/projects/{project.pk}/export", {"exportType": export_type})
    assert response.status_code == 200, response.content
    size = lines = 0
    for piece in response.streaming_content:
        size += len(piece)
        lines += piece.count(b"\n")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    sampler.done.set()
    sampler.join()
    highest = sampler.highest
    print(f"{export_type:5s} tasks={project.task_count} annotations={project.annotation_count} size={size / 1e6:.0f}MB lines={lines} "
          f"time={elapsed:.2f}s cpu={cpu:.2f}s load={os.getloadavg()[0]:.1f} rate={project.task_count / elapsed:,.0f} tasks/s rss_before={before:.0f}MB "
          f"rss_growth={highest - before:.0f}MB peak_rss={peak_rss_mb():.0f}MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--formats", default="JSON,COCO")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    os.environ["LABELER_EXPORT_SYNC_MAX_TASKS"] = str(args.tasks)
    setup_django(args.database_url)
    from django.test import Client

    manager = bench_manager()
    client = Client()
    client.force_login(manager)
    for export_type in args.formats.split(","):
        kind, config = KINDS[export_type]
        started = time.perf_counter()
        project = bench_project(manager, kind, config, args.tasks)
        print(f"{kind} project {project.pk}: {project.task_count} tasks ready in {time.perf_counter() - started:.1f}s")
        time_export(client, project, export_type)


if __name__ == "__main__":
    main()
