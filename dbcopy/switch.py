"""Moving the running app to another database without a restart: the database target file
(config/target.py) names the new one, then gunicorn's master (``make serve``) gets SIGHUP: it
starts new workers, which import the settings afresh (``preload_app`` is off), and stops the
old ones gracefully (each finishes the request it is serving). Once no old worker is left,
every request is served from the new database."""

import os
import signal
import time
from pathlib import Path

from django.conf import settings

from config.target import write_target
from dbcopy.exceptions import CopyFailed, CopyRefused

# Longer than gunicorn's graceful timeout (30 s by default): an old worker's last request.
RELOAD_TIMEOUT_SECONDS = 45.0


def gunicorn_master() -> int:
    """The pid of the running gunicorn master, from ``GUNICORN_PID_FILE``; refused (before
    anything is paused) when there is none."""
    path = Path(settings.GUNICORN_PID_FILE)
    hint = "--switch moves an app served by `make serve` (gunicorn)"
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        raise CopyRefused(f"{hint}: no gunicorn pid file at {path}") from None
    except OSError as exc:
        raise CopyRefused(f"{hint}: {path}: {exc.strerror}") from None
    if not text.isdigit():
        raise CopyRefused(f"{hint}: {path} holds no pid")
    pid = int(text)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        cmdline = b""
    if b"gunicorn" not in cmdline:
        raise CopyRefused(f"{hint}: gunicorn (pid {pid} in {path}) is not running")
    return pid


def workers(master: int) -> set[int]:
    """The live children of ``master`` (gunicorn's workers)."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if int(ppid) == master and state != "Z":
            children.add(int(entry.name))
    return children


def reload_workers(master: int, *, timeout: float | None = None) -> None:
    """SIGHUP, then wait until none of the workers serving before is left."""
    timeout = RELOAD_TIMEOUT_SECONDS if timeout is None else timeout
    old = workers(master)
    os.kill(master, signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = workers(master)
        if current and not current & old:
            return
        time.sleep(0.02)
    left = sorted(workers(master) & old)
    raise CopyFailed(
        f"gunicorn (pid {master}) still runs old worker(s) {left} {timeout:.0f} s after the reload"
    )


def switch_app(master: int, url: str) -> None:
    """Point the target file at ``url`` and reload the workers onto it."""
    write_target(Path(settings.DATABASE_TARGET_PATH), url)
    reload_workers(master)
