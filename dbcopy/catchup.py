"""The catch-up step of an online copy: replay what changed on a captured source since the
last run. For every changed key the row's current state replaces the target's, or the
target's row goes where the source no longer has one; replays read current state, so they
are idempotent and need no order."""

import time
from dataclasses import dataclass

from dbcopy import capture, postgres, rebuild, stream
from dbcopy.exceptions import CopyFailed, CopyRefused, VerificationFailed
from dbcopy.models import CaptureMark
from dbcopy.plan import Plan
from dbcopy.progress import Progress, SilentProgress
from dbcopy.verify import VerifyReport, verify_rows, verify_tables


@dataclass
class CatchUpReport:
    changed_keys: int
    upserted: int
    deleted: int
    seconds: float
    mark: int
    # With verify_all: every table compared at this mark (the snapshot later rounds build on).
    verification: VerifyReport | None = None


def _check_capture(plan: Plan) -> None:
    if not capture.capture_installed(plan.source):
        raise CopyRefused(f"{plan.path} has no change capture: copy it with --capture first")
    missing = capture.missing_triggers(plan.source, plan.tables)
    if missing:
        raise CopyFailed(
            f"the change capture on {plan.path} lacks trigger {missing[0]}: changes made "
            "without it reach no catch-up; copy again with --capture --truncate"
        )


def catch_up(
    plan: Plan, *, progress: Progress | None = None, verify_all: bool = False
) -> CatchUpReport:
    """One round: the changes up to the source's current mark, in one target transaction with
    deferred foreign keys, the replayed rows compared with the source before it commits.
    ``verify_all``: then every table is compared, source and target both at the mark replayed
    to (the source's snapshot is held, so the app may go on writing)."""
    progress = progress or SilentProgress()
    mark = CaptureMark.objects.filter(source=plan.key).first()
    if mark is None:
        raise CopyRefused(f"{plan.path} was never copied with --capture to this target")
    started = time.monotonic()
    _check_capture(plan)
    with plan.snapshot() as source:
        upto = capture.current_mark(source)
        changes = capture.changed_keys(source, after=mark.last_seq, upto=upto)
        unknown = sorted(set(changes) - set(plan.by_name))
        if unknown:
            raise CopyRefused(f"changes captured for tables this app does not have: {unknown}")
        upserted = 0
        with postgres.target_transaction(plan.target) as pg:
            with pg.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                for name, keys in changes.items():
                    stream.delete_keys(cursor, plan.by_name[name], keys)
                for name, keys in changes.items():
                    upserted += stream.copy_keys(source, cursor, plan.by_name[name], keys, progress)
            rebuild.reset_sequences(plan.target, [plan.by_name[n] for n in changes])
            mark.last_seq = upto
            mark.save(update_fields=["last_seq", "updated_at"])
            failures = verify_rows(source, pg, plan.by_name, changes)
            if failures:
                raise VerificationFailed(failures)
        verification = None
        if verify_all:
            with postgres.target_transaction(plan.target, snapshot=True) as pg:
                verification = verify_tables(
                    source, pg, plan.tables, target_alias=plan.target.alias, progress=progress
                )
            if not verification.ok:
                raise VerificationFailed(verification.failures())
    changed = sum(len(k) for k in changes.values())
    return CatchUpReport(
        changed_keys=changed,
        upserted=upserted,
        deleted=changed - upserted,
        seconds=time.monotonic() - started,
        mark=upto,
        verification=verification,
    )


def changes_since(plan: Plan, mark: int) -> int:
    """How many changes the source logged after ``mark`` (read outside any snapshot)."""
    return capture.current_mark(plan.source) - mark
