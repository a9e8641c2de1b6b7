"""The servers of ``make run`` and ``make serve``, started as a newcomer or an operator starts
them, for the docs' commands to run against."""

import os
import shutil
import signal
import subprocess
from pathlib import Path

from tests.docs.markdown import ROOT
from tests.resilience.server import free_port, wait_until_serving

# What a checkout holds that is not the project: its data, its settings, git and caches.
NOT_COPIED = (
    ".git",
    ".venv",
    ".env",
    "data",
    "staticfiles",
    "build",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    "*.sqlite3",
    "*.sqlite3-*",
)


def served_by_make(
    target: str, env: dict, log: Path, *, cwd: Path = ROOT
) -> tuple[subprocess.Popen, str]:
    """``make run`` or ``make serve`` on a free port, in a process group of its own."""
    port = free_port()
    process = subprocess.Popen(
        ["make", "--no-print-directory", target, f"PORT={port}"],
        cwd=cwd,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base_url, process, log.read_text)
    except BaseException:
        stop_serving(process)
        raise
    return process, base_url


def stop_serving(process: subprocess.Popen) -> None:
    """Stop a server started by ``served_by_make`` as an operator does: gunicorn finishes the
    requests in flight, then exits."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=60)


def checkout_copy(destination: Path) -> Path:
    """A copy of this checkout, without its data or ``.env``, that uses its ``.venv``: an
    install of its own, where ``data/`` and the other relative paths are the copy's."""
    up_to_date = subprocess.run(
        ["make", "--question", "install"], cwd=ROOT, capture_output=True, timeout=60
    )
    # Else `make serve` in the copy would install the project from the copy into this .venv.
    assert up_to_date.returncode == 0, ".venv is older than pyproject.toml or uv.lock: make install"
    # copy2 keeps the files' times, so the copy's make finds the .venv up to date too.
    shutil.copytree(ROOT, destination, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)
    (destination / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    return destination
