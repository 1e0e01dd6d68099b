"""Stopping the server processes tests start (a Celery worker, an LLM server): politely, then by force."""
import subprocess


def stop_process(process: subprocess.Popen | None, *, grace: float = 10) -> None:
    """SIGTERM, and SIGKILL if it is still there after `grace` seconds; nothing if it already ended."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
