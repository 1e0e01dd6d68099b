"""Time the annotator's labeling page in headless Chromium against a real server (gunicorn, as `make run` starts it).

Measures, in the page itself (performance.now(), after the frame is painted):
  - page load: navigation start until the first task is fully shown (text drawn, image decoded and boxes layer up);
  - submit -> next: the Enter key's timestamp until the next task is fully shown, over --submissions tasks.
Each project (text: choices + spans; image: boxes; pairwise: a prompt and two Markdown responses of about 2,000
tokens each, the annotator picking one by key) is new per run, with its tasks imported through the import
pipeline; the annotator labels each task by key before submitting, after --think seconds (no person labels a
task in less than that; it also lets the prefetch of the next task come back, as it always has in real use).

Usage: .venv/bin/python bench/ui_bench.py [--submissions 100] [--loads 10] [--think 0.3]
Needs Chromium at /usr/bin/chromium and the vendored front-end files (make frontend/static/frontend/vendor/.installed).
"""
import argparse
import io
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from _setup import bench_manager, free_port, percentile, setup_django, stop_process_group, wait_for_port

os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/labeler_bench_ui")
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "bench-annotator-password"


def make_projects(task_count: int):
    """A fresh text project and image project with an annotator in both; their tasks go through the import code."""
    from django.contrib.auth import get_user_model

    from projects import services
    from projects.imports.readers import parse_json_body, read_tasks
    from ml.management.commands import seed_demo
    from projects.models import Role
    from projects.imports.service import import_limits, write_tasks

    annotator, _ = get_user_model().objects.get_or_create(username="bench-annotator")
    annotator.set_password(PASSWORD)
    annotator.save()
    manager = bench_manager()
    stamp = time.strftime("%H:%M:%S")
    rng = random.Random(7)
    text = services.create_project(creator=manager, title=f"UI bench text {stamp}", label_config=seed_demo.TEXT_CONFIG)
    texts = seed_demo.review_texts(task_count, rng)
    write_tasks(text, parse_json_body([{"text": body} for body in texts], services.project_config(text)))
    image = services.create_project(creator=manager, title=f"UI bench images {stamp}", label_config=seed_demo.IMAGE_CONFIG)
    config = services.project_config(image)
    scenes = (task for index in range(task_count)
              for task in read_tasks(f"scene-{index}.png", io.BytesIO(seed_demo.draw_scene(index, rng)), config, import_limits()))
    write_tasks(image, scenes)
    pairwise = services.create_project(creator=manager, title=f"UI bench pairwise {stamp}", label_config=PAIRWISE_CONFIG)
    write_tasks(pairwise, parse_json_body(pairwise_tasks(task_count, rng), services.project_config(pairwise)))
    for project in (text, image, pairwise):
        services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    return annotator, text, image, pairwise


PAIRWISE_CONFIG = """<View><Text name="prompt" value="$prompt"/>
  <Text name="a" value="$response_a" markdown="true"/><Text name="b" value="$response_b" markdown="true"/>
  <Pairwise name="pw" toName="a,b" allowTie="true"/></View>"""
WORDS = "model answer token sentence paragraph example caching index latency request server client".split()


def long_response(rng: random.Random, tokens: int = 2000) -> str:
    """About `tokens` tokens of Markdown (a word is ~1.3 tokens): paragraphs, a list and a code block."""
    words = [rng.choice(WORDS) for _ in range(int(tokens / 1.3))]
    paragraphs = [" ".join(words[start:start + 60]) + "." for start in range(0, len(words), 60)]
    return "\n\n".join([*paragraphs[:-2], "- first point\n- second point", "```python\nprint('hi')\n```", *paragraphs[-2:]])


def pairwise_tasks(count: int, rng: random.Random) -> list[dict]:
    return [{"prompt": f"Question {index}?", "response_a": long_response(rng), "response_b": long_response(rng)}
            for index in range(count)]


def start_server(port: int) -> subprocess.Popen:
    from django.core.management import call_command

    from labeler.launcher import web_command

    call_command("collectstatic", interactive=False, verbosity=0)
    os.environ["PORT"] = str(port)  # web_command reads it
    env = {**os.environ, "DEBUG": "false"}
    log = open(Path(os.environ["LABELER_VAR_DIR"]) / "ui-bench-server.log", "wb")
    server = subprocess.Popen(web_command("127.0.0.1"), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for_port(port, server, log.name)
    return server


def log_in(page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", "bench-annotator")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def page_loads(page, url: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        page.goto(url)
        page.wait_for_function("() => window.labelerMetrics && window.labelerMetrics.pageShownAt !== null")
        samples.append(page.evaluate("window.labelerMetrics.pageShownAt"))
    return samples


def choose_sentiment(page) -> None:
    page.keyboard.press("1")


def draw_box(page) -> None:
    box = page.locator("img.task-image").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7, steps=4)
    page.mouse.up()


def prefer_left(page) -> None:
    page.keyboard.press("1")


def submissions(page, url: str, count: int, label_task, think: float) -> tuple[list[float], list[float]]:
    """Label each task, press Enter, wait for the next. Answers in-page and Playwright-side durations (ms)."""
    page.goto(url)
    page.wait_for_selector("body[data-state=ready]")
    in_page, outside = [], []
    for _ in range(count):
        shown = page.get_attribute("body", "data-task")
        label_task(page)
        time.sleep(think)
        before = len(page.evaluate("window.labelerMetrics.transitions"))
        started = time.perf_counter()
        page.keyboard.press("Enter")
        page.wait_for_function(
            "([shown, before]) => document.body.dataset.state === 'ready' && document.body.dataset.task !== shown"
            " && window.labelerMetrics.transitions.length > before",
            arg=[shown, before], polling="raf",
        )
        outside.append((time.perf_counter() - started) * 1000)
        in_page.append(page.evaluate("window.labelerMetrics.transitions.at(-1).ms"))
    page.wait_for_selector("#save-status[data-state=saved]")
    return in_page, outside


def summary(name: str, samples: list[float]) -> str:
    return (f"{name:<34} n={len(samples):<4} p50 {percentile(samples, 0.5):7.1f} ms   p95 {percentile(samples, 0.95):7.1f} ms"
            f"   max {max(samples):7.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--think", type=float, default=0.3, help="seconds between labelling a task and pressing Enter")
    args = parser.parse_args()
    setup_django()
    from playwright.sync_api import sync_playwright

    annotator, text, image, pairwise = make_projects(args.submissions + args.loads + 5)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(port)
    lines = [f"database {os.environ['DATABASE_URL']}, gunicorn on {base}, Chromium headless, think time {args.think} s"]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            log_in(page, base)
            kinds = (("text", text, choose_sentiment), ("image", image, draw_box), ("pairwise", pairwise, prefer_left))
            for kind, project, label_task in kinds:
                url = f"{base}/projects/{project.pk}/label/"
                lines.append(summary(f"{kind}: page load to first task", page_loads(page, url, args.loads)))
                in_page, outside = submissions(page, url, args.submissions, label_task, args.think)
                lines.append(summary(f"{kind}: submit -> next shown (page)", in_page))
                lines.append(summary(f"{kind}: submit -> next (Playwright)", outside))
            browser.close()
    finally:
        stop_process_group(server, grace=10)
    from projects.models import Annotation

    stored = Annotation.objects.filter(completed_by=annotator, project__in=[text, image, pairwise]).count()
    lines.append(f"annotations stored: {stored} (expected {3 * args.submissions})")
    print("\n".join(lines))
    return 0 if stored == 3 * args.submissions else 1


if __name__ == "__main__":
    sys.exit(main())
