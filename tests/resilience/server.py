"""The app served by a real server process, against the test database, with its own
environment (for faults that need other settings than the test process has)."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
SERVER_APPLICATION_NAME = "journal-under-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_tests() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def wait_until_serving(base_url: str, process: subprocess.Popen, errors) -> None:
    """Until ``/healthz`` answers (30 s at most); if the server exits or never answers, the
    end of what ``errors()`` returns (its error log) is the failure."""
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base_url}/healthz", timeout=1).close()  # noqa: S310
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(errors()[-2000:]) from None
            time.sleep(0.1)


@contextmanager
def app_server(**env):
    """Serve the app with gunicorn as in production (one worker with four threads, so that
    requests can compete for its database pool) and these environment variables."""
    port = free_port()
    environment = {
        **os.environ,
        "DEBUG": "0",
        "LOG_LEVEL": "ERROR",
        # libpq names the server's connections, so a test can find (and kill) just those.
        "PGAPPNAME": SERVER_APPLICATION_NAME,
        # These tests write as fast as they can to find faults, not the write rate limit.
        "THROTTLE_WRITE_RATE": "1000000/s",
        **env,
    }
    # The server's log goes to a file, not a pipe: nobody reads a pipe while the server runs,
    # and once its buffer is full (a storm of errors logged) every thread that logs blocks.
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed once the server has stopped)
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "config/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "config.wsgi",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base_url = f"http://127.0.0.1:{port}"

    def errors() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")

    try:
        wait_until_serving(base_url, process, errors)
        yield base_url
    finally:
        process.terminate()
        process.wait(10)
        log.close()
