"""The cutover of an online copy in one step. While the app still writes: catch up until a
round has little left to replay, then catch up once more and verify every table at that
round's mark (the source's snapshot is held while the app writes on), then catch up until
little is left again. Then pause writes (maintenance mode), replay what changed since the
last round and verify those rows. The pause holds the last replay only: it grows with the
writes of a few seconds, never with the database (docs/copy.md says why that is complete).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from dbcopy import capture, catchup
from dbcopy.catchup import CatchUpReport
from dbcopy.exceptions import CopyFailed
from dbcopy.plan import Plan
from dbcopy.progress import Progress
from dbcopy.verify import VerifyReport
from ops import maintenance

# A round that replays at most this many rows is small enough to pause writes for the next.
SETTLED_ROWS = 1000
MAX_ROUNDS = 10


# Writes have stopped once no change is captured for this long (requests that passed the
# maintenance check just before it was turned on finish their writes first).
QUIET_SECONDS = 0.2
QUIET_LIMIT_SECONDS = 10.0


def wait_for_quiet(plan: Plan, *, quiet: float | None = None, limit: float | None = None) -> None:
    """Wait until the source's change log stops growing for ``quiet`` seconds (every write
    goes through the capture triggers). Writes still coming after ``limit`` seconds mean the
    app does not see the maintenance flag: the cutover stops there. (A write that lands after
    the quiet spell cannot be lost either: the full verification would fail.)"""
    quiet = QUIET_SECONDS if quiet is None else quiet
    limit = QUIET_LIMIT_SECONDS if limit is None else limit
    deadline = time.monotonic() + limit
    last, since = capture.current_mark(plan.source), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(quiet / 4)
        mark = capture.current_mark(plan.source)
        if mark != last:
            last, since = mark, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
    raise CopyFailed(
        f"writes went on {limit:.0f} s after maintenance was turned on: does the app use "
        f"this MAINTENANCE_FLAG_PATH ({maintenance.flag_path()})?"
    )


@dataclass
class CutoverReport:
    rounds: list[CatchUpReport]  # while the app was still writing
    final: CatchUpReport  # with writes paused
    verification: VerifyReport  # every table, while the app was still writing
    paused_seconds: float  # from the pause to a verified target


def _catch_up_until_settled(plan, progress, on_round, settled_rows, max_rounds, rounds):
    for _ in range(max_rounds):
        report = catchup.catch_up(plan, progress=progress)
        rounds.append(report)
        on_round(report)
        if report.changed_keys <= settled_rows:
            return


def catch_up_while_writing(
    plan: Plan,
    *,
    progress: Progress | None = None,
    on_round: Callable[[CatchUpReport], None] = lambda report: None,
    on_verified: Callable[[CatchUpReport], None] = lambda report: None,
    settled_rows: int = SETTLED_ROWS,
    max_rounds: int = MAX_ROUNDS,
) -> tuple[list[CatchUpReport], VerifyReport]:
    """Everything before the pause: rounds until little is left, every table verified at one
    round's mark, rounds until little is left again."""
    rounds: list[CatchUpReport] = []
    _catch_up_until_settled(plan, progress, on_round, settled_rows, max_rounds, rounds)
    # The snapshot every later replay builds on, compared whole while the app writes.
    verified = catchup.catch_up(plan, progress=progress, verify_all=True)
    rounds.append(verified)
    on_verified(verified)
    # The writes made during that verification, replayed before the pause.
    _catch_up_until_settled(plan, progress, on_round, settled_rows, max_rounds, rounds)
    assert verified.verification is not None
    return rounds, verified.verification


def final_replay(plan: Plan, *, progress: Progress | None = None) -> CatchUpReport:
    """The last catch-up, once nothing writes the source any more, and the one rule for a
    change that comes after it: the move fails (the target would miss it). It replays the keys
    changed since the last round and compares those rows."""
    final = catchup.catch_up(plan, progress=progress)
    late = catchup.changes_since(plan, final.mark)
    if late:
        raise CopyFailed(
            f"{late} change(s) reached the source after the last catch-up (a request or a "
            "process still writing it); run the move again"
        )
    return final


def cutover(
    plan: Plan,
    *,
    progress: Progress | None = None,
    on_round: Callable[[CatchUpReport], None] = lambda report: None,
    on_verified: Callable[[CatchUpReport], None] = lambda report: None,
    on_pause: Callable[[], None] = lambda: None,
    settled_rows: int = SETTLED_ROWS,
    max_rounds: int = MAX_ROUNDS,
) -> CutoverReport:
    """Leaves maintenance on when it succeeds (the app must be switched to PostgreSQL before
    writes go on); when anything fails after writes were paused, turns maintenance off again
    (unless it was already on), since the app still writes to the SQLite file."""
    rounds, verification = catch_up_while_writing(
        plan,
        progress=progress,
        on_round=on_round,
        on_verified=on_verified,
        settled_rows=settled_rows,
        max_rounds=max_rounds,
    )
    paused = time.monotonic()
    with maintenance.writes_paused():
        on_pause()
        wait_for_quiet(plan)
        final = final_replay(plan, progress=progress)
    return CutoverReport(rounds, final, verification, time.monotonic() - paused)
