"""The pre-migration check: every problem a copy would meet, all at once, each with its check
id, count and sample keys; read-only on both sides; in agreement with the copy."""

import hashlib
import json
import re
import sqlite3
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import User
from dbcopy import steps
from dbcopy.check import check_copy
from journal.models import JournalEntry
from tests.dbcopy.conftest import FILL
from tests.dbcopy.data import fill
from tests.dbcopy.test_bad_values import BAD_VALUES, hand_edit

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def file_digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def found(report, table, column, key) -> list[str]:
    """The check ids of the findings with this sample."""
    return [
        f.check
        for f in report.findings
        for s in f.samples
        if (s.table, s.column, s.key) == (table, column, str(key))
    ]


def test_a_clean_source_passes_with_a_forecast(source):
    fill(FILL, users=3, entries_per_user=4)

    report = check_copy(source)

    assert report.ok, report.findings
    assert report.forecast.rows >= 3 + 12
    assert report.forecast.bytes == source.stat().st_size
    assert report.forecast.copy_seconds >= 0
    assert report.forecast.write_rate is None  # no capture on this source


def test_every_planted_problem_is_found_in_one_run_and_nothing_changes(source):
    fill(FILL, users=3, entries_per_user=4)
    planted = {
        "value.kind": hand_edit(source, "journal_journalentry", "size_bytes", "many"),
        "value.datetime": hand_edit(source, "tokens_session", "expires_at", "2026-02-30 10:00:00"),
        "value.not_utf8": hand_edit(source, "accounts_user", "display_name", b"caf\xe9"),
        "value.too_long": hand_edit(source, "accounts_user", "email", "x" * 300 + "@example.com"),
    }
    with sqlite3.connect(source) as conn:  # a row pointing at no parent, as a hand edit leaves
        conn.execute("PRAGMA foreign_keys = OFF")
        orphan = conn.execute("SELECT max(id) FROM journal_journalentry").fetchone()[0]
        conn.execute(
            "UPDATE journal_journalentry SET user_id = 'ffffffffffffffffffffffffffffffff'"
            " WHERE id = ?",
            [orphan],
        )
    before = file_digest(source)

    report = check_copy(source)

    assert not report.ok
    where = {
        "value.kind": ("journal_journalentry", "size_bytes"),
        "value.datetime": ("tokens_session", "expires_at"),
        "value.not_utf8": ("accounts_user", "display_name"),
        "value.too_long": ("accounts_user", "email"),
    }
    for check, key in planted.items():
        assert check in found(report, *where[check], key), (check, report.findings)
    assert "source.orphan" in found(report, "journal_journalentry", "user_id", orphan)
    assert file_digest(source) == before
    assert not User.objects.exists() and not JournalEntry.objects.exists()


@pytest.mark.parametrize(
    "user_id",
    ["ffffffffffffffffffffffffffffffff", b"\xff" * 32],
    ids=["a key no user has", "text that is not UTF-8"],
)
def test_every_row_pointing_at_no_parent_is_named(source, user_id):
    """Each table's foreign keys are first compared in Python with the parent's keys; a row
    that fails that, even one whose value Python cannot read, is named by the SQL search."""
    fill(FILL, users=3, entries_per_user=4)
    with sqlite3.connect(source) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        keys = [k for (k,) in conn.execute("SELECT id FROM journal_journalentry ORDER BY id")]
        value_sql = "CAST(? AS TEXT)" if isinstance(user_id, bytes) else "?"
        for key in (keys[2], keys[7]):
            conn.execute(
                f"UPDATE journal_journalentry SET user_id = {value_sql} WHERE id = ?",  # noqa: S608
                [user_id, key],
            )
        conn.execute("UPDATE tokens_refreshtoken SET session_id = ? WHERE id = 1", ["0" * 32])

    report = check_copy(source)

    orphans = {f.message: f for f in report.findings if f.check == "source.orphan"}
    entries = orphans["journal_journalentry.user_id points at no row of accounts_user"]
    assert entries.count == 2
    assert [s.key for s in entries.samples] == [keys[2], keys[7]]
    tokens = orphans["tokens_refreshtoken.session_id points at no row of tokens_session"]
    assert (tokens.count, [s.key for s in tokens.samples]) == (1, ["1"])
    assert len(orphans) == 2


@pytest.mark.parametrize("bad", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_the_check_and_the_copy_name_the_same_value(source, bad):
    table, column, value, reason = bad
    fill(FILL)
    key = hand_edit(source, table, column, value)

    report = check_copy(source)
    with pytest.raises(CommandError) as refused:
        call_command("copy_from_sqlite", str(source), "--no-progress")

    assert found(report, table, column, key), report.findings
    assert any(re.search(reason, f.message) for f in report.findings)
    assert str(refused.value).startswith(f"{table}.{column} of the row with id = {key}: ")


def test_one_text_that_is_not_utf8_among_good_rows_is_named_by_its_key(source, monkeypatch):
    """The journal is decoded a part at a time (here 5 rows): the one part that
    does not decode is read row by row, and its wrong text alone is reported."""
    monkeypatch.setattr("dbcopy.sqlite.TEXT_PART_ROWS", 5)
    fill(FILL, users=3, entries_per_user=4)
    with sqlite3.connect(source) as conn:  # the seventh of twelve rows: the second part
        key = conn.execute("SELECT id FROM journal_journalentry WHERE rowid = 7").fetchone()[0]
        conn.execute(
            "UPDATE journal_journalentry SET content = CAST(? AS TEXT) WHERE id = ?",
            [b"caf\xe9", key],
        )

    report = check_copy(source)
    with pytest.raises(CommandError) as refused:
        call_command("copy_from_sqlite", str(source), "--no-progress")

    not_utf8 = [f for f in report.findings if f.check == "value.not_utf8"]
    assert [(f.message, f.count) for f in not_utf8] == [
        ("journal_journalentry.content: text that is not UTF-8", 1)
    ]
    assert [(s.table, s.column, s.key) for s in not_utf8[0].samples] == [
        ("journal_journalentry", "content", key)
    ]
    assert str(refused.value).startswith(
        f"journal_journalentry.content of the row with id = {key}: text that is not UTF-8"
    )


def test_a_target_holding_data_is_reported(source):
    fill(FILL)
    steps.copy_sqlite_to_postgres(source)

    report = check_copy(source)

    assert [f.check for f in report.findings] == ["target.not_empty"]


def test_with_capture_on_the_forecast_gives_the_write_rate_and_the_pause(source):
    fill(FILL)
    steps.copy_sqlite_to_postgres(source, capture_changes=True)
    User.objects.all().delete()  # an empty target again; the triggers stay on the source

    report = check_copy(source)

    assert report.forecast.write_rate == 0  # nothing writes to the source meanwhile
    assert report.forecast.cutover_pause_seconds is not None


def test_keys_postgresql_would_hold_as_equal_are_reported(source):
    fill(FILL, users=2)
    with sqlite3.connect(source) as conn:  # the same UUID again, in capitals
        user_id = conn.execute("SELECT min(id) FROM accounts_user").fetchone()[0]
        conn.execute(
            "INSERT INTO accounts_user (id, password, is_superuser, username, is_staff,"
            " is_active, provider, provider_subject, email, display_name, created_at,"
            " updated_at) SELECT upper(id), password, is_superuser, username || '2', is_staff,"
            " is_active, provider, provider_subject || '2', email, display_name, created_at,"
            " updated_at FROM accounts_user WHERE id = ?",
            [user_id],
        )

    report = check_copy(source)

    unique = [f for f in report.findings if f.check == "source.unique"]
    assert [f.message for f in unique] == ["accounts_user (id): values PostgreSQL holds as equal"]
    assert unique[0].count == 1


def run_check(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("copy_from_sqlite", *args, "--check", stdout=out, stderr=err)
    except CommandError as exc:
        return 1, out.getvalue(), str(exc)
    return 0, out.getvalue(), ""


def test_the_command_reports_every_problem_as_text_and_as_json_and_fails(source):
    fill(FILL)
    nul = hand_edit(source, "journal_journalentry", "content", "a\x00b")
    date = hand_edit(source, "tokens_session", "expires_at", "yesterday")
    before = file_digest(source)

    status, text, reason = run_check(str(source))
    json_status, document, _ = run_check(str(source), "--format", "json")

    assert status == json_status == 1
    assert reason.startswith("3 problems") and reason.endswith("nothing was changed")
    assert "  value.nul: journal_journalentry.content: holds a NUL" in text
    assert f"e.g. journal_journalentry.content {nul})" in text
    assert f"e.g. tokens_session.expires_at {date})" in text
    assert "forecast: " in text
    report = json.loads(document)
    assert report["ok"] is False
    assert {f["check"] for f in report["findings"]} == {
        "value.nul",
        "value.datetime",
        "source.invariant",  # the entry's size_bytes no longer matches its content
    }
    assert file_digest(source) == before
    assert not User.objects.exists()


def test_the_command_passes_a_clean_source_with_its_forecast(source):
    fill(FILL)

    status, text, _ = run_check(str(source))

    assert status == 0
    assert (
        text.splitlines()[0]
        == f"check of {source} into postgresql {connection.settings_dict['NAME']}"
    )
    assert re.fullmatch(
        r"forecast: \d+ tables, [\d,]+ rows, [\d.]+ MB; the copy about [\d.]+ s",
        text.splitlines()[-1],
    )


def test_format_goes_with_check_only(source):
    with pytest.raises(CommandError, match="--format goes with --check only"):
        call_command("copy_from_sqlite", str(source), "--format", "json")


def test_a_duplicate_its_unique_index_lacks_is_reported(source):
    """An index that disagrees with its table (what ``PRAGMA quick_check`` leaves out): the
    unique check reads the table, so the duplicate PostgreSQL's rebuilt index would refuse is
    found though SQLite's index never saw it."""
    fill(FILL)
    index = "auth_permission_content_type_id_codename_01ab375a_uniq"
    with sqlite3.connect(source) as conn:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [index]).fetchone()
    with sqlite3.connect(source) as conn:  # the index made partial: the next row skips it
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = ? WHERE name = ?",
            [sql + ' WHERE "id" <> 999999', index],
        )
    with sqlite3.connect(source) as conn:
        conn.execute(
            "INSERT INTO auth_permission (id, name, content_type_id, codename)"
            " SELECT 999999, name, content_type_id, codename FROM auth_permission"
            " ORDER BY id LIMIT 1"
        )
    with sqlite3.connect(source) as conn:  # and whole again, without the row
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", [sql, index])
    with sqlite3.connect(source) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok"

    report = check_copy(source)

    unique = [f for f in report.findings if f.check == "source.unique"]
    assert [f.message for f in unique] == [
        "auth_permission (content_type_id, codename): values PostgreSQL holds as equal"
    ]
