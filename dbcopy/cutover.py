"""The cutover of an online copy in one step: catch up while the app still writes until a
round has little left to replay, then pause writes (maintenance mode), replay the rest and
verify everything. Writes stay paused for the last catch-up and the verification only, with
no process start-ups or typing in between."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dbcopy import capture, copy
from dbcopy.copy import CatchUpReport, CopyFailed, VerificationFailed
from dbcopy.progress import Progress
from dbcopy.source import open_read_only
from dbcopy.verify import VerifyReport
from ops import maintenance

# A round that replays at most this many rows is small enough to pause writes for the next.
SETTLED_ROWS = 1000
MAX_ROUNDS = 10


# Writes have stopped once no change is captured for this long (requests that passed the
# maintenance check just before it was turned on finish their writes first).
QUIET_SECONDS = 0.2
QUIET_LIMIT_SECONDS = 10.0


def wait_for_quiet(path, *, quiet: float | None = None, limit: float | None = None) -> None:
    """Wait until the source's change log stops growing for ``quiet`` seconds (every write
    goes through the capture triggers). Writes still coming after ``limit`` seconds mean the
    app does not see the maintenance flag: the cutover stops there. (A write that lands after
    the quiet spell cannot be lost either: the full verification would fail.)"""
    quiet = QUIET_SECONDS if quiet is None else quiet
    limit = QUIET_LIMIT_SECONDS if limit is None else limit
    source = open_read_only(Path(path))
    try:
        deadline = time.monotonic() + limit
        last, since = capture.current_mark(source), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(quiet / 4)
            mark = capture.current_mark(source)
            if mark != last:
                last, since = mark, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
    finally:
        source.close()
    raise CopyFailed(
        f"writes went on {limit:.0f} s after maintenance was turned on: does the app use "
        f"this MAINTENANCE_FLAG_PATH ({maintenance.flag_path()})?"
    )


@dataclass
class CutoverReport:
    rounds: list[CatchUpReport]  # while the app was still writing
    final: CatchUpReport  # with writes paused
    verification: VerifyReport
    paused_seconds: float  # from maintenance on to a verified target


def cutover(
    path,
    *,
    progress: Progress | None = None,
    on_round: Callable[[CatchUpReport], None] = lambda report: None,
    on_pause: Callable[[], None] = lambda: None,
    settled_rows: int = SETTLED_ROWS,
    max_rounds: int = MAX_ROUNDS,
) -> CutoverReport:
    """Leaves maintenance on when it succeeds (the app must be switched to PostgreSQL before
    writes go on); when anything fails after writes were paused, turns maintenance off again
    (unless it was already on), since the app still writes to the SQLite file."""
    rounds = []
    for _ in range(max_rounds):
        report = copy.catch_up(path, progress=progress)
        rounds.append(report)
        on_round(report)
        if report.changed_keys <= settled_rows:
            break
    was_on = maintenance.is_on()
    paused = time.monotonic()
    try:
        maintenance.turn_on()
        on_pause()
        wait_for_quiet(path)
        final = copy.catch_up(path, progress=progress)
        verification = copy.verify_copy(path)
        if not verification.ok:
            raise VerificationFailed(verification.failures())
        # A request that passed the maintenance check before it went on and wrote after the
        # quiet spell is in neither the last catch-up nor the verification's snapshot.
        late = changes_since(path, final.mark)
        if late:
            raise CopyFailed(
                f"{late} change(s) reached the source after the last catch-up (a slow request "
                "that started before maintenance went on); run --cutover again"
            )
    except BaseException:
        if not was_on:
            maintenance.turn_off()
        raise
    return CutoverReport(rounds, final, verification, time.monotonic() - paused)


def changes_since(path, mark: int) -> int:
    source = open_read_only(Path(path))
    try:
        return capture.current_mark(source) - mark
    finally:
        source.close()
