import random
import re
import sqlite3
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from dbcopy import copy
from dbcopy.capture import CHANGE_TABLE
from dbcopy.source import close_alias, register_sqlite_alias
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
    report = copy.copy_sqlite_to_postgres(source, capture_changes=True)
    during_copy = writer.writes - before_copy
    first = copy.catch_up(source)  # the writer is still going
    writer.stop.set()
    writer.join(30)
    final = copy.catch_up(source)  # what maintenance mode would make the last one

    assert writer.error is None
    assert report.verification.ok
    assert during_copy > 0, "the writer must have written while the copy ran"
    assert first.changed_keys > 0
    assert final.mark >= first.mark
    assert copy.verify_copy(source).ok
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
    copy.copy_sqlite_to_postgres(source, capture_changes=True)
    doomed = JournalEntry.objects.using(FILL).filter(user_id=users[0].pk).first()
    changed = JournalEntry.objects.using(FILL).filter(user_id=users[1].pk).first()
    remove_entry(FILL, entry_id=doomed.pk)
    edit_entry(FILL, entry_id=changed.pk, content="changed")
    added = add_entry(FILL, user_id=users[1].pk, content="added")
    Session.objects.using(FILL).filter(user_id=users[0].pk).delete()
    User.objects.using(FILL).filter(pk=users[0].pk).update(display_name="renamed")

    report = copy.catch_up(source)

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
    again = copy.catch_up(source)
    assert again.changed_keys == 0
    assert differences(FILL, "default") == {}


def test_stop_capture_removes_the_triggers_and_the_change_table(source):
    fill(FILL, users=1)
    copy.copy_sqlite_to_postgres(source, capture_changes=True)

    copy.stop_capture(source)

    with sqlite3.connect(source) as conn:
        leftovers = conn.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'dbcopy_%' AND type != 'index'"
            " AND name != 'dbcopy_capturemark'"
        ).fetchall()
    assert leftovers == []
    with pytest.raises(copy.CopyRefused, match="no change capture"):
        copy.catch_up(source)
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


def test_a_failed_cutover_turns_maintenance_off_again(source, flag):
    users = fill(FILL, users=2)
    call_command("copy_from_sqlite", str(source), "--capture")
    # A row changed on the target behind the copy's back: the final verification fails.
    JournalEntry.objects.filter(user_id=users[0].pk).update(content="tampered")

    with pytest.raises(CommandError, match="maintenance is off again: the app goes on writing"):
        call_command("copy_from_sqlite", str(source), "--cutover")

    assert not flag.exists()


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
        with pytest.raises(CommandError, match="writes went on 2 s after maintenance"):
            call_command("copy_from_sqlite", str(source), "--cutover")
    finally:
        writer.stop.set()
        writer.join(30)

    assert writer.error is None
    assert not flag.exists()


def test_a_write_landing_after_the_last_catch_up_fails_the_cutover(source, flag, monkeypatch):
    users = fill(FILL, users=2)
    call_command("copy_from_sqlite", str(source), "--capture")
    real_verify = copy.verify_copy

    def verify_while_a_slow_request_writes(path):
        report = real_verify(path)
        # A request that passed the maintenance check before it went on, writing after the
        # verification's snapshot.
        add_entry(FILL, user_id=users[0].pk, content="late")
        return report

    monkeypatch.setattr(copy, "verify_copy", verify_while_a_slow_request_writes)

    # The entry's insert and its owner's usage update (logged under its old and new key).
    with pytest.raises(CommandError, match=r"3 change\(s\) reached the source after the last"):
        call_command("copy_from_sqlite", str(source), "--cutover")

    assert not flag.exists()
    monkeypatch.setattr(copy, "verify_copy", real_verify)
    call_command("copy_from_sqlite", str(source), "--cutover")  # run again: it goes through
    assert JournalEntry.objects.filter(content="late").exists()
    assert flag.exists()
