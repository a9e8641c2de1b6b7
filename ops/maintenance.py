"""Maintenance mode and the hold of a move, both files so that every worker process of every
server sees them at once without a restart.

- The flag (``MAINTENANCE_FLAG_PATH``, set by ``maintenance on``): the API is read-only; every
  unsafe request is refused at once with 503 ``maintenance`` and an honest ``Retry-After``.
- The hold (the flag's path with ``.hold`` added, set by the ``--switch`` moves): it names the
  database the app is moving to. A worker serving that database (a new one, started by the
  move's reload) holds every request until the hold is lifted, at most
  ``CUTOVER_HOLD_SECONDS``, then serves it; past that wait it refuses it with 503
  ``maintenance``. A worker serving another database (an old one, draining) ignores it.
"""

import hashlib
import json
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import JsonResponse

from ops.http import SAFE_METHODS
from ops.responses import error_response

logger = logging.getLogger(__name__)

# Without an expected end (or past it), a client is told to come back after as long as
# maintenance has lasted so far (a pause is likely to go on about as long as it has), within
# these bounds.
MIN_RETRY_AFTER_SECONDS = 1
MAX_RETRY_AFTER_SECONDS = 300
# How often a held request looks whether the hold was lifted.
HOLD_POLL_SECONDS = 0.01
# Never held: the process is up whatever database it serves.
NEVER_HELD_PATHS = frozenset({"/healthz"})


def flag_path() -> Path:
    return Path(settings.MAINTENANCE_FLAG_PATH)


def hold_path() -> Path:
    flag = flag_path()
    return flag.with_name(flag.name + ".hold")


def is_on() -> bool:
    return flag_path().exists()


def _read_flag() -> tuple[datetime | None, datetime | None] | None:
    """(since, expected end) of the flag, None when maintenance is off."""
    try:
        lines = flag_path().read_text().split()
    except FileNotFoundError:
        return None
    times: list[datetime | None] = []
    for text in lines[:2]:
        try:
            times.append(datetime.fromisoformat(text))
        except ValueError:
            times.append(None)
    times += [None] * (2 - len(times))
    return times[0], times[1]


def since() -> str | None:
    flag = _read_flag()
    if flag is None:
        return None
    started, _ = flag
    return started.isoformat(timespec="seconds") if started else "unknown"


def expected_end() -> datetime | None:
    flag = _read_flag()
    return None if flag is None else flag[1]


def turn_on(*, expected_seconds: int | None = None) -> None:
    """The flag, with when it went on and, given ``expected_seconds``, when it should end (what
    ``Retry-After`` tells clients). Already on: the expected end is updated only if given."""
    path = flag_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    flag = _read_flag()
    started = flag[0] if flag and flag[0] else datetime.now(UTC)
    if flag is not None and expected_seconds is None:
        return
    lines = [started.isoformat(timespec="seconds")]
    if expected_seconds is not None:
        end = datetime.now(UTC) + timedelta(seconds=expected_seconds)
        lines.append(end.isoformat(timespec="seconds"))
    path.write_text("\n".join(lines) + "\n")


def turn_off() -> None:
    flag_path().unlink(missing_ok=True)


@contextmanager
def writes_paused() -> Iterator[None]:
    """Maintenance on for the block; off again if the block fails (unless it was on before).
    On success it stays on: the caller decides when writes go on."""
    was_on = is_on()
    turn_on()
    try:
        yield
    except BaseException:
        if not was_on:
            turn_off()
        raise


def retry_after_seconds(now: datetime | None = None) -> int:
    """An honest wait for a client refused by maintenance: the time left to the expected end
    when the operator gave one, else as long as maintenance has lasted so far."""
    now = now or datetime.now(UTC)
    flag = _read_flag()
    started, end = flag if flag else (None, None)
    if end is not None and end > now:
        return max(math.ceil((end - now).total_seconds()), MIN_RETRY_AFTER_SECONDS)
    lasted = (now - started).total_seconds() if started is not None else 0
    return min(max(math.ceil(lasted), MIN_RETRY_AFTER_SECONDS), MAX_RETRY_AFTER_SECONDS)


def served_database(alias: str = DEFAULT_DB_ALIAS) -> dict[str, str]:
    """What this process's ``alias`` connects to, the same however it was configured: the
    engine's vendor and, for SQLite, the file's absolute path, for PostgreSQL host, port and
    database name."""
    cfg = connections[alias].settings_dict
    vendor = connections[alias].vendor
    if vendor == "sqlite":
        return {"vendor": vendor, "name": str(Path(cfg["NAME"]).resolve())}
    return {
        "vendor": vendor,
        "host": str(cfg.get("HOST") or ""),
        "port": str(cfg.get("PORT") or ""),
        "name": str(cfg.get("NAME") or ""),
    }


def hold_token(database: dict[str, str]) -> str:
    """What the hold file holds: a digest of the database moved to (never its URL, which may
    carry a password)."""
    return hashlib.sha256(json.dumps(database, sort_keys=True).encode()).hexdigest()


def hold_requests(database: dict[str, str]) -> None:
    """Workers serving ``database`` hold every request until ``release_requests``."""
    path = hold_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.new")
    temporary.write_text(hold_token(database) + "\n")
    temporary.replace(path)


def release_requests() -> None:
    hold_path().unlink(missing_ok=True)


def hold_since() -> datetime | None:
    """When a move wrote the hold in place now; None when there is none."""
    try:
        return datetime.fromtimestamp(hold_path().stat().st_mtime, UTC)
    except FileNotFoundError:
        return None


def is_held_here() -> bool:
    try:
        token = hold_path().read_text().strip()
    except FileNotFoundError:
        return False
    return token == hold_token(served_database())


def wait_for_release(limit: float) -> bool:
    """Wait while this worker's database is held, ``limit`` seconds at most: True once
    released."""
    deadline = time.monotonic() + limit
    while is_held_here():
        if time.monotonic() >= deadline:
            return False
        time.sleep(HOLD_POLL_SECONDS)
    return True


def _refused(retry_after: int) -> JsonResponse:
    return error_response(
        503,
        "The service is read-only for maintenance; try again shortly.",
        "maintenance",
        retry_after=retry_after,
    )


class MaintenanceModeMiddleware:
    """Holds every request while the app moves to this worker's database (then serves it, or
    past ``CUTOVER_HOLD_SECONDS`` refuses it); answers every unsafe method with 503
    ``maintenance`` while the flag is set; reads go on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path not in NEVER_HELD_PATHS and is_held_here():
            logger.info("request held while the app moves")
            started = time.monotonic()
            released = wait_for_release(settings.CUTOVER_HOLD_SECONDS)
            logger.info(
                "held request served" if released else "held request refused",
                extra={"held_seconds": round(time.monotonic() - started, 3)},
            )
            if not released:
                return _refused(max(math.ceil(settings.CUTOVER_HOLD_SECONDS), 1))
        if request.method not in SAFE_METHODS and is_on():
            return _refused(retry_after_seconds())
        return self.get_response(request)
