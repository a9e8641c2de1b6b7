"""Writes to the app at a steady rate while its primary database dies, then says when writes
were acknowledged again and whether every acknowledged write is on the new primary. Run by
scripts/failover_demo.sh, which sets APP_URL, ACCESS_TOKEN, KILL_TARGET (what to kill with SIGKILL:
the primary node's process group as ``-PGID``, or its postmaster's pid) and the app's own
environment (DATABASE_URL, ...)."""

import os
import signal
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from scripts.api_client import call  # noqa: E402

WRITES_PER_SECOND = 20
WARM_UP_SECONDS = 5  # writes before the kill
AFTER_SECONDS = 5  # writes after the first acknowledged one on the new primary
GIVE_UP_SECONDS = 60  # writes never resumed
HTTP_TIMEOUT_SECONDS = 30


@dataclass
class Write:
    number: int
    sent: float
    done: float | None = None
    status: int | None = None  # None: no HTTP answer at all
    code: str = ""
    retry_after: str | None = None
    entry_id: str | None = None


def post_entry(write: Write, app_url: str, token: str) -> None:
    answer = call(
        app_url,
        "POST",
        "/api/v1/journal/entries",
        token=token,
        body={"content": f"failover demo write {write.number}"},
        timeout=HTTP_TIMEOUT_SECONDS,
    )
    if answer.error is not None:
        write.code = type(answer.error).__name__
        write.done = time.monotonic()
        return
    write.status = answer.status
    write.done = time.monotonic()
    write.retry_after = answer.headers.get("Retry-After")
    body = answer.body
    if body is None:
        return
    write.code = body.get("code", "")
    if write.status == 201:
        write.entry_id = body["id"]


class Writer:
    """One write every 1/WRITES_PER_SECOND seconds, each in a thread of its own, whether or not
    the earlier ones have been answered (clients do not wait for each other)."""

    def __init__(self, app_url: str, token: str) -> None:
        self.app_url, self.token = app_url, token
        self.writes: list[Write] = []
        self.stopped = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=WRITES_PER_SECOND * HTTP_TIMEOUT_SECONDS)
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        started = time.monotonic()
        number = 0
        while not self.stopped.is_set():
            delay = started + number / WRITES_PER_SECOND - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            write = Write(number=number, sent=time.monotonic())
            self.writes.append(write)
            self.pool.submit(post_entry, write, self.app_url, self.token)
            number += 1

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.pool.shutdown(wait=True)


def first_acknowledged_after(writes: list[Write], moment: float) -> Write | None:
    """The first write sent after ``moment`` to be acknowledged: it cannot have been served by
    the primary that was killed at ``moment``."""
    acknowledged = [
        (w.done, w)
        for w in list(writes)
        if w.status == 201 and w.done is not None and w.sent >= moment
    ]
    return min(acknowledged, key=lambda pair: pair[0], default=(0.0, None))[1]


def outage(writes: list[Write], killed_at: float) -> tuple[float, float]:
    """The longest stretch without an acknowledgement from the last one before the kill on:
    its start and end. Writes sent before the kill and queued in the app server are served
    first when the database is back, so the end is when writes resumed."""
    done = sorted(w.done for w in writes if w.status == 201 and w.done is not None)
    last_before = max((t for t in done if t <= killed_at), default=killed_at)
    marks = [last_before, *(t for t in done if t > killed_at)]
    return max(zip(marks, marks[1:], strict=False), key=lambda pair: pair[1] - pair[0])


def stored_entries(entry_ids: list[str]) -> tuple[set[str], int, str]:
    """The acknowledged ids found, every entry stored, and the server that answered: through
    DATABASE_URL with target_session_attrs=read-write, so the primary now."""
    import django

    django.setup()
    from django.db import DEFAULT_DB_ALIAS, connections

    from journal.models import JournalEntry

    found = {
        str(pk) for pk in JournalEntry.objects.filter(pk__in=entry_ids).values_list("pk", flat=True)
    }
    total = JournalEntry.objects.count()
    info = connections[DEFAULT_DB_ALIAS].connection.info
    server = f"{info.host}:{info.port}"
    connections[DEFAULT_DB_ALIAS].close()
    return found, total, server


def describe(write: Write) -> str:
    if write.status is None:
        return f"no answer ({write.code})"
    if write.status == 201:
        return "201"
    retry = f", Retry-After {write.retry_after}" if write.retry_after else ", no Retry-After"
    return f"{write.status} {write.code or '(no code)'}{retry}"


def main() -> int:
    writer = Writer(os.environ["APP_URL"], os.environ["ACCESS_TOKEN"])
    writer.start()
    time.sleep(WARM_UP_SECONDS)
    before = sum(1 for w in list(writer.writes) if w.status == 201)
    killed_at = time.monotonic()
    target = int(os.environ["KILL_TARGET"])
    if target < 0:
        os.killpg(-target, signal.SIGKILL)
    else:
        os.kill(target, signal.SIGKILL)
    print(
        f"{before} writes acknowledged before the kill; primary killed (SIGKILL) at "
        f"{datetime.now(UTC).time().isoformat(timespec='milliseconds')} UTC",
        flush=True,
    )
    while (resumed := first_acknowledged_after(writer.writes, killed_at)) is None:
        if time.monotonic() - killed_at > GIVE_UP_SECONDS:
            break
        time.sleep(0.05)
    time.sleep(AFTER_SECONDS)
    writer.stop()

    writes = writer.writes
    acknowledged = [w for w in writes if w.status == 201]
    found, total, server = stored_entries([w.entry_id for w in acknowledged if w.entry_id])
    lost = [w for w in acknowledged if w.entry_id not in found]

    if resumed is None:
        print(f"failover: writes did not resume within {GIVE_UP_SECONDS} s")
    else:
        gap_start, resumed_at = outage(writes, killed_at)
        print(f"failover: writes resumed after {resumed_at - killed_at:.1f} s")
    print(f"acknowledged writes lost: {len(lost)}")
    print(f"  (checked on the primary now, {server}: {len(acknowledged)} acknowledged entries")
    print(f"  looked up, {total} entries stored in all)")

    print(f"\nwhat the writer saw ({len(writes)} writes, {WRITES_PER_SECOND} per second):")
    for answer, count in Counter(describe(w) for w in writes).most_common():
        print(f"  {count:5d}  {answer}")
    if resumed is not None and resumed.done is not None:
        print(f"  longest time without an acknowledged write: {resumed_at - gap_start:.1f} s")
        print(
            "  the first write sent after the kill was acknowledged after "
            f"{resumed.done - killed_at:.1f} s (queued behind earlier ones)"
        )
    slowest = max((w.done - w.sent for w in writes if w.done), default=0.0)
    print(f"  slowest answer: {slowest:.1f} s")
    unacknowledged = total - len(found)
    print(f"  stored without being acknowledged (a retry would store them twice): {unacknowledged}")
    if resumed is not None:
        during = [w for w in writes if killed_at <= w.sent < resumed_at]
        print(
            f"  sent during the outage: {len(during)}, answered: "
            + ", ".join(
                f"{count} {answer}"
                for answer, count in Counter(describe(w) for w in during).items()
            )
        )
    return 0 if resumed is not None and not lost else 1


if __name__ == "__main__":
    sys.exit(main())
