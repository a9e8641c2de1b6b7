"""gunicorn's control, for the commands that move the running app (``make serve``): its
master's pid file, its workers, a reload, and the settings each worker publishes.

What a worker really uses is known only inside it: gunicorn's ``--env``, ``raw_env`` and
``GUNICORN_CMD_ARGS`` give it variables the master's environment does not show, and relative
paths are resolved where it runs. So each worker writes its effective settings, once booted
(``post_worker_init``), to ``<pid file>.workers/<pid>.json``, and a command compares them with
its own before it pauses anything.
"""

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from ops.maintenance import served_database

# Longer than gunicorn's graceful timeout (30 s by default): an old worker's last request.
RELOAD_TIMEOUT_SECONDS = 45.0


class ServerNotRunning(Exception):
    """No gunicorn to move: the message says why."""


class ServerReloadFailed(Exception):
    """The reload did not replace every worker in time."""


def published_dir(pid_file: Path) -> Path:
    return pid_file.with_name(pid_file.name + ".workers")


def effective_settings() -> dict[str, Any]:
    """What this process serves and where it looks, every path absolute."""
    return {
        "pid": os.getpid(),
        "database": served_database(),
        "database_url_set": settings.DATABASE_TARGET.source == "DATABASE_URL",
        "database_target_path": str(Path(settings.DATABASE_TARGET_PATH).resolve()),
        "maintenance_flag_path": str(Path(settings.MAINTENANCE_FLAG_PATH).resolve()),
        "sqlite_path": str(Path(settings.SQLITE_PATH).resolve()),
        "cutover_hold_seconds": settings.CUTOVER_HOLD_SECONDS,
        "working_directory": os.getcwd(),
    }


def publish_settings(pid_file: Path) -> None:
    """Written by each worker once it has loaded the app (gunicorn's ``post_worker_init``)."""
    directory = published_dir(pid_file)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{os.getpid()}.json"
    temporary = directory / f".{os.getpid()}.json.new"
    temporary.write_text(json.dumps(effective_settings(), sort_keys=True) + "\n")
    temporary.replace(path)


def unpublish_settings(pid_file: Path, pid: int) -> None:
    (published_dir(pid_file) / f"{pid}.json").unlink(missing_ok=True)


def clear_published(pid_file: Path) -> None:
    """A previous server's leftovers, removed when the master starts."""
    directory = published_dir(pid_file)
    if directory.is_dir():
        for stale in directory.iterdir():
            stale.unlink(missing_ok=True)


@dataclass(frozen=True)
class Server:
    master: int
    pid_file: Path

    def workers(self) -> set[int]:
        return workers(self.master)

    def published(self) -> dict[int, dict[str, Any] | None]:
        """Each live worker's published settings (None: it has not published them, yet or at
        all)."""
        directory = published_dir(self.pid_file)
        found: dict[int, dict[str, Any] | None] = {}
        for pid in sorted(self.workers()):
            try:
                found[pid] = json.loads((directory / f"{pid}.json").read_text())
            except (OSError, ValueError):
                found[pid] = None
        return found

    def reload(self, *, timeout: float | None = None) -> None:
        reload_workers(self.master, timeout=timeout)

    def replace_workers(self, *, timeout: float | None = None) -> None:
        replace_workers(self.master, self.pid_file, timeout=timeout)


def running_server(pid_file: Path | None = None) -> Server:
    """The gunicorn master named by ``GUNICORN_PID_FILE``; ``ServerNotRunning`` when there is
    none."""
    path = Path(pid_file or settings.GUNICORN_PID_FILE)
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        raise ServerNotRunning(f"no gunicorn pid file at {path}") from None
    except OSError as exc:
        raise ServerNotRunning(f"{path}: {exc.strerror}") from None
    if not text.isdigit():
        raise ServerNotRunning(f"{path} holds no pid")
    pid = int(text)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        cmdline = b""
    if b"gunicorn" not in cmdline:
        raise ServerNotRunning(f"gunicorn (pid {pid} in {path}) is not running")
    return Server(pid, path)


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
    """SIGHUP (new workers start, reading the settings afresh; the old ones finish the request
    they serve and leave), then wait until none of the workers serving before is left."""
    timeout = RELOAD_TIMEOUT_SECONDS if timeout is None else timeout
    old = workers(master)
    os.kill(master, signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = workers(master)
        if current and not current & old:
            return
        time.sleep(0.01)
    left = sorted(workers(master) & old)
    raise ServerReloadFailed(
        f"gunicorn (pid {master}) still runs old worker(s) {left} {timeout:.0f} s after the reload"
    )


def _signal_until(master: int, signum: int, changed, deadline: float, what: str) -> None:
    """Send ``signum`` to the master, then wait until ``changed(workers before, workers now)``.
    Waiting before the next signal matters: a signal sent while one of its kind is still
    pending would be merged with it."""
    before = workers(master)
    os.kill(master, signum)
    while time.monotonic() < deadline:
        if changed(before, workers(master)):
            return
        time.sleep(0.005)
    raise ServerReloadFailed(f"gunicorn (pid {master}) did not {what} in time")


def replace_workers(master: int, pid_file: Path, *, timeout: float | None = None) -> None:
    """New workers first, then the old ones leave, so that no connection waits for a worker
    to load the app (a SIGHUP reload stops the old workers at once, while the new ones are
    still loading it, about 0.2 s of CPU each). One SIGTTIN per worker serving now: gunicorn
    starts one more worker each time, which reads the settings afresh (``preload_app`` is
    off). Once every new worker has loaded the app (it has published its settings), one
    SIGTTOU per worker added: gunicorn stops its oldest worker each time, gracefully (it
    finishes the request it serves). Back once none of the workers serving before is left."""
    timeout = RELOAD_TIMEOUT_SECONDS if timeout is None else timeout
    deadline = time.monotonic() + timeout
    old = workers(master)
    directory = published_dir(pid_file)
    for _ in old:
        _signal_until(
            master,
            signal.SIGTTIN,
            lambda before, now: len(now) > len(before),
            deadline,
            "add a worker",
        )
    while time.monotonic() < deadline:
        new = workers(master) - old
        if len(new) >= len(old) and all((directory / f"{pid}.json").exists() for pid in new):
            break
        time.sleep(0.005)
    else:
        raise ServerReloadFailed(
            f"gunicorn (pid {master}): its new workers did not load the app in {timeout:.0f} s"
        )
    for _ in old:
        _signal_until(
            master,
            signal.SIGTTOU,
            lambda before, now: len(now) < len(before),
            deadline,
            "stop a worker",
        )
    while time.monotonic() < deadline:
        if not workers(master) & old:
            return
        time.sleep(0.005)
    left = sorted(workers(master) & old)
    raise ServerReloadFailed(
        f"gunicorn (pid {master}) still runs old worker(s) {left} {timeout:.0f} s after the reload"
    )
