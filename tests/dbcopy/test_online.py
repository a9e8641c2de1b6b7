import random
import re
import sqlite3
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from dbcopy import capture, catchup, sqlite, steps
from dbcopy.capture import CHANGE_TABLE
from dbcopy.exceptions import CopyRefused
from dbcopy.sqlite import close_alias, open_writable, register_sqlite_alias
from dbcopy.tables import copied_tables
from journal.models import JournalEntry, JournalUsage
from ops import maintenance
from subscriptions.models import SubscriptionEvent
from tests.dbcopy.conftest import FILL
from tests.dbcopy.data import (
    add_entry,
    differences,
    edit_entry,
    fill,
    recount_usage,
    remove_entry,
)
from tokens.models import Session

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


class Writer(threading.Thread):
    """Keeps inserting, updating and deleting rows on the live source, as the app would."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.started_writing = threading.Event()
        self.writes = 0
        self.error = None

    def run(self):
        alias = register_sqlite_alias("live_app", self.path, read_only=False)
        rng = random.Random(7)
        try:
            while not self.stop.is_set():
                self.write_once(alias, rng)
                self.writes += 1
                if self.writes == 20:
                    self.started_writing.set()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
            self.started_writing.set()
        finally:
            close_alias(alias)

    def write_once(self, alias, rng):
        users = list(User.objects.using(alias).values_list("pk", flat=True))
        entries = JournalEntry.objects.using(alias)
        op = rng.random()
        if op < 0.4 or not entries.exists():
            content = rng.choice(["new \u00e9", "tab\there", "\\N", "x" * 300])
            add_entry(alias, user_id=rng.choice(users), content=content)
        elif op < 0.7:
            edit_entry(alias, entry_id=entries.order_by("?").first().pk, content="edited")
        elif op < 0.85:
            remove_entry(alias, entry_id=entries.order_by("?").first().pk)
        elif op < 0.95:
            SubscriptionEvent.objects.using(alias).create(
                provider="stripe",
                event_id=f"live_{self.writes}",
                type="t",
                payload={"n": self.writes},
                outcome="processed",
                created="2026-01-01T00:00:00Z",
            )
        else:
            user = User(provider="google", provider_subject=f"live-{self.writes}")
            user.set_unusable_password()
            user.save(using=alias)


def test_online_copy_with_a_live_writer_catches_up_and_verifies(source):
    users = fill(FILL, users=5)
    JournalEntry.objects.using(FILL).bulk_create(
        JournalEntry(user_id=users[i % 5].pk, content=f"old {i}", size_bytes=len(f"old {i}"))
        for i in range(20_000)
    )
    recount_usage(FILL)
    writer = Writer(source)
    writer.start()
    assert writer.started_writing.wait(30)

    before_copy = writer.writes
    report = steps.copy_sqlite_to_postgres(source, capture_changes=True)
    during_copy = writer.writes - before_copy
    first = steps.catch_up(source)  # the writer is still going
    writer.stop.set()
    writer.join(30)
    final = steps.catch_up(source)  # what maintenance mode would make the last one

    assert writer.error is None
    assert report.verification.ok
    assert during_copy > 0, "the writer must have written while the copy ran"
    assert first.changed_keys > 0
    assert final.mark >= first.mark
    assert steps.verify_copy(source).ok
    assert differences(FILL, "default") == {}
    # Sequences moved past the ids the catch-ups wrote.
    assert SubscriptionEvent.objects.create(
        provider="p",
        event_id="after",
        type="t",
        payload={},
        outcome="processed",
        created="2026-01-01T00:00:00Z",
    ).pk


def test_catch_up_replays_inserts_updates_and_deletes(source):
    users = fill(FILL, users=2)
    steps.copy_sqlite_to_postgres(source, capture_changes=True)
    doomed = JournalEntry.objects.using(FILL).filter(user_id=users[0].pk).first()
    changed = JournalEntry.objects.using(FILL).filter(user_id=users[1].pk).first()
    remove_entry(FILL, entry_id=doomed.pk)
    edit_entry(FILL, entry_id=changed.pk, content="changed")
    added = add_entry(FILL, user_id=users[1].pk, content="added")
    Session.objects.using(FILL).filter(user_id=users[0].pk).delete()
    User.objects.using(FILL).filter(pk=users[0].pk).update(display_name="renamed")

    report = steps.catch_up(source)

    assert not JournalEntry.objects.filter(pk=doomed.pk).exists()
    assert JournalEntry.objects.get(pk=changed.pk).content == "changed"
    assert JournalEntry.objects.get(pk=added.pk).content == "added"
    assert User.objects.get(pk=users[0].pk).display_name == "renamed"
    assert not Session.objects.filter(user_id=users[0].pk).exists()
    # Deleted: the entry, the session and (cascading) its refresh token. Upserted: the changed
    # and the added entry, the renamed user and both owners' usage rows.
    assert report.deleted == 3 and report.upserted == 5
    assert JournalUsage.objects.get(pk=users[0].pk).entries == 3
    assert differences(FILL, "default") == {}
    # Replaying again finds nothing new and changes nothing.
    again = steps.catch_up(source)
    assert again.changed_keys == 0
    assert differences(FILL, "default") == {}


def test_stop_capture_removes_the_triggers_and_the_change_table(source):
    fill(FILL, users=1)
    steps.copy_sqlite_to_postgres(source, capture_changes=True)

    steps.stop_capture(source)

    with sqlite3.connect(source) as conn:
        leftovers = conn.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'dbcopy_%' AND type != 'index'"
            " AND name != 'dbcopy_capturemark'"
        ).fetchall()
    assert leftovers == []
    with pytest.raises(CopyRefused, match="no change capture"):
        steps.catch_up(source)
    assert CHANGE_TABLE == "dbcopy_change"


@pytest.fixture
def flag(settings, tmp_path):
    settings.MAINTENANCE_FLAG_PATH = tmp_path / "maintenance.flag"
    return settings.MAINTENANCE_FLAG_PATH


class AppWriter(Writer):
    """The writer as the app is: once maintenance is on, its writes are refused (503)."""

    def write_once(self, alias, rng):
        if maintenance.is_on():
            time.sleep(0.005)
            return
        super().write_once(alias, rng)


def test_cutover_catches_up_pauses_writes_and_verifies(source, flag, capsys, monkeypatch):
    # Longer than any one write of the writer takes, even on a loaded machine.
    monkeypatch.setattr("dbcopy.cutover.QUIET_SECONDS", 1.0)
    fill(FILL, users=3)
    call_command("copy_from_sqlite", str(source), "--capture")
    writer = AppWriter(source)
    writer.start()
    assert writer.started_writing.wait(30)

    try:
        call_command("copy_from_sqlite", str(source), "--cutover")
    finally:
        writer.stop.set()
        writer.join(30)

    out = capsys.readouterr().out
    assert writer.error is None
    assert flag.exists(), "maintenance stays on for the switch"
    assert "while writing: caught up" in out
    assert "maintenance on: writes answer 503" in out
    assert "writes paused: caught up" in out
    assert re.search(r"writes paused for [\d.]+ s so far", out)
    assert "maintenance off" in out
    assert differences(FILL, "default") == {}
    first_round = re.search(r"while writing: caught up to change \d+: (\d+) changed rows", out)
    assert int(first_round.group(1)) > 0, "the writer's changes were replayed"


def test_a_target_that_differs_fails_the_cutover_before_writes_pause(source, flag, monkeypatch):
    users = fill(FILL, users=2)
    call_command("copy_from_sqlite", str(source), "--capture")
    # A row changed on the target behind the copy's back: the full verification fails.
    JournalEntry.objects.filter(user_id=users[0].pk).update(content="tampered")
    paused = []
    monkeypatch.setattr(maintenance, "turn_on", lambda: paused.append(True))

    with pytest.raises(CommandError, match="verification failed.*maintenance is off: the app"):
        call_command("copy_from_sqlite", str(source), "--cutover")

    assert paused == [] and not flag.exists()


def test_the_pause_replays_and_verifies_only_what_changed(source, flag, monkeypatch, capsys):
    fill(FILL, users=3)
    call_command("copy_from_sqlite", str(source), "--capture")
    whole = []
    real_verify_tables = catchup.verify_tables

    def verify_tables(*args, **kwargs):
        whole.append(maintenance.is_on())
        return real_verify_tables(*args, **kwargs)

    monkeypatch.setattr(catchup, "verify_tables", verify_tables)
    edited = JournalEntry.objects.using(FILL).order_by("pk").first()
    edit_entry(FILL, entry_id=edited.pk, content="edited before the cutover")

    call_command("copy_from_sqlite", str(source), "--cutover")

    assert whole == [False], "every table is compared once, while writes still go on"
    out = capsys.readouterr().out
    assert "journal_journalentry: 12 rows match" in out
    assert re.search(r"every table at change \d+, while the app wrote on", out)
    assert JournalEntry.objects.get(pk=edited.pk).content == "edited before the cutover"
    assert flag.exists()


def test_a_cutover_prepares_its_plan_once_and_opens_the_source_once(source, flag, monkeypatch):
    fill(FILL, users=2)
    call_command("copy_from_sqlite", str(source), "--capture")
    edit_entry(FILL, entry_id=JournalEntry.objects.using(FILL).first().pk, content="changed")
    checked, opened = [], []
    real_check, real_open = sqlite.register_source_alias, sqlite.open_read_only
    monkeypatch.setattr(
        sqlite, "register_source_alias", lambda p: checked.append(p) or real_check(p)
    )
    monkeypatch.setattr(sqlite, "open_read_only", lambda p: opened.append(p) or real_open(p))

    call_command("copy_from_sqlite", str(source), "--cutover")

    # Every round, the full verification and the pause's quiet wait work on the one plan.
    assert (len(checked), len(opened)) == (1, 1)
    assert JournalEntry.objects.filter(content="changed").exists()


def drop_entry_triggers(path):
    with sqlite3.connect(path) as conn:
        for op in ("ins", "upd", "del"):
            conn.execute(f"DROP TRIGGER dbcopy_journal_journalentry_{op}")


def test_a_change_that_slipped_past_the_capture_fails_the_cutover(source, flag):
    fill(FILL, users=2)
    call_command("copy_from_sqlite", str(source), "--capture")
    # Written while the triggers were gone, then the triggers put back: no catch-up sees it.
    drop_entry_triggers(source)
    with sqlite3.connect(source) as conn:
        conn.execute(
            "UPDATE journal_journalentry SET content = 'unseen', size_bytes = 6"
            " WHERE id = (SELECT min(id) FROM journal_journalentry)"
        )
    writer = open_writable(source)
    capture.install_capture(writer, copied_tables())
    writer.close()

    with pytest.raises(CommandError, match="verification failed"):
        call_command("copy_from_sqlite", str(source), "--cutover")

    assert not flag.exists()
    assert not JournalEntry.objects.filter(content="unseen").exists()


def test_a_capture_trigger_gone_before_the_pause_fails_the_cutover(source, flag, monkeypatch):
    fill(FILL, users=2)
    call_command("copy_from_sqlite", str(source), "--capture")
    monkeypatch.setattr(maintenance, "turn_on", lambda: (drop_entry_triggers(source), flag.touch()))

    with pytest.raises(CommandError, match="lacks trigger dbcopy_journal_journalentry_ins"):
        call_command("copy_from_sqlite", str(source), "--cutover")

    assert not flag.exists(), "maintenance is off again"


def test_cutover_without_a_capture_copy_is_refused_and_leaves_maintenance_alone(source, flag):
    fill(FILL, users=1)
    call_command("copy_from_sqlite", str(source))

    with pytest.raises(CommandError, match="was never copied with --capture"):
        call_command("copy_from_sqlite", str(source), "--cutover")

    assert not flag.exists()


def test_a_cutover_stops_if_writes_go_on_under_maintenance(source, flag, monkeypatch):
    fill(FILL, users=2)
    call_command("copy_from_sqlite", str(source), "--capture")
    monkeypatch.setattr("dbcopy.cutover.QUIET_SECONDS", 0.5)
    monkeypatch.setattr("dbcopy.cutover.QUIET_LIMIT_SECONDS", 2.0)
    writer = Writer(source)  # an app that does not see the flag: it never stops
    writer.start()
    assert writer.started_writing.wait(30)

    try:
        # Usually the change log never goes quiet; on a loaded machine the writer may stall
        # for the quiet spell, and then the check after the last catch-up stops the cutover.
        with pytest.raises(
            CommandError,
            match=r"writes went on 2 s after maintenance|change\(s\) reached the source after",
        ):
            call_command("copy_from_sqlite", str(source), "--cutover")
    finally:
        writer.stop.set()
        writer.join(30)

    assert writer.error is None
    assert not flag.exists()


def test_a_write_landing_after_the_last_catch_up_fails_the_cutover(source, flag, monkeypatch):
    users = fill(FILL, users=2)
    call_command("copy_from_sqlite", str(source), "--capture")
    real_catch_up = catchup.catch_up

    def catch_up_while_a_slow_request_writes(plan, **kwargs):
        report = real_catch_up(plan, **kwargs)
        if maintenance.is_on() and not JournalEntry.objects.using(FILL).filter(content="late"):
            # A request that passed the maintenance check before it went on, writing after
            # the last catch-up's snapshot.
            add_entry(FILL, user_id=users[0].pk, content="late")
        return report

    monkeypatch.setattr(catchup, "catch_up", catch_up_while_a_slow_request_writes)

    # The entry's insert and its owner's usage update (logged under its old and new key).
    with pytest.raises(CommandError, match=r"3 change\(s\) reached the source after the last"):
        call_command("copy_from_sqlite", str(source), "--cutover")

    assert not flag.exists()
    monkeypatch.setattr(catchup, "catch_up", real_catch_up)
    call_command("copy_from_sqlite", str(source), "--cutover")  # run again: it goes through
    assert JournalEntry.objects.filter(content="late").exists()
    assert flag.exists()
