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

from config.target import target_path, write_target
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
    _check_workers_read_the_target(pid)
    return pid


def served_environment(master: int) -> dict[str, str]:
    """The environment gunicorn's master started with, which its workers inherit."""
    raw = Path(f"/proc/{master}/environ").read_bytes()
    pairs = (item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
    return dict(pairs)


def _check_workers_read_the_target(master: int) -> None:
    """Refused (before anything is paused) when the new workers would not serve what the
    database target file names: ``DATABASE_URL`` set in their environment wins over the file,
    and another ``DATABASE_TARGET_PATH`` is another file. Either way the reload would leave
    the app on the database it serves, and maintenance would then go off there."""
    try:
        env = served_environment(master)
    except OSError as exc:
        raise CopyRefused(
            f"--switch: the environment of gunicorn (pid {master}) is unreadable ({exc.strerror})"
        ) from None
    if env.get("DATABASE_URL", "").strip():
        raise CopyRefused(
            f"--switch: gunicorn (pid {master}) runs with DATABASE_URL set, which wins over the "
            "database target file, so its workers would stay where they are: serve with "
            "DATABASE_URL unset (`make serve`), or move the app by hand"
        )
    theirs = target_path(env.get("DATABASE_TARGET_PATH"), base_dir=settings.BASE_DIR)
    ours = Path(settings.DATABASE_TARGET_PATH)
    if theirs.resolve() != ours.resolve():
        raise CopyRefused(
            f"--switch: gunicorn (pid {master}) reads the database target file {theirs}, this "
            f"command writes {ours}: give both the same DATABASE_TARGET_PATH"
        )


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
