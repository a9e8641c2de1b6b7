from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from idempotency.models import IdempotencyKey
from idempotency.services import purge_idempotency_keys
from tests.processes import run_manage


def make_key(user, key, *, age):
    return IdempotencyKey.objects.create(
        user=user,
        key=key,
        method="POST",
        path="/api/v1/journal/entries",
        body_sha256="0" * 64,
        status=201,
        body="{}",
        created_at=timezone.now() - age,
    )


def test_purge_deletes_the_keys_past_their_retention(user, settings, capsys):
    settings.IDEMPOTENCY_KEY_RETENTION_HOURS = 24
    make_key(user, "old", age=timedelta(hours=25))
    make_key(user, "older", age=timedelta(days=30))
    make_key(user, "recent", age=timedelta(hours=23))

    call_command("purge_idempotency_keys", "--batch-size", "1")

    assert capsys.readouterr().out.strip() == "purged 2 idempotency key(s)"
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]


def test_the_default_retention_is_a_week(user):
    now = timezone.now()
    make_key(user, "six days", age=timedelta(days=6, hours=23))
    make_key(user, "eight days", age=timedelta(days=8))

    assert purge_idempotency_keys(now=now) == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["six days"]


def test_a_purged_key_runs_again(keyed, user):
    keyed("POST", "/api/v1/journal/entries", "k", {"content": "hello"})
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(days=8))
    purge_idempotency_keys()

    again = keyed("POST", "/api/v1/journal/entries", "k", {"content": "hello"})

    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert user.journal_entries.count() == 2


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["purge_idempotency_keys", "--batch-size", "0"], "--batch-size must be at least 1"),
        (["purge_idempotency_keys", "--batch-size", "many"], "invalid int value"),
    ],
)
def test_purge_refuses_bad_input_with_one_line_and_no_traceback(tmp_path, args, reason):
    env = {"SECRET_KEY": "x" * 50, "SQLITE_PATH": str(tmp_path / "db.sqlite3")}
    result = run_manage(*args, env=env)

    assert result.returncode != 0
    assert reason in result.stderr
    assert "Traceback" not in result.stderr


def test_purge_on_an_unmigrated_database_fails_with_one_line(tmp_path):
    env = {"SECRET_KEY": "x" * 50, "SQLITE_PATH": str(tmp_path / "db.sqlite3")}
    result = run_manage("purge_idempotency_keys", env=env)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "database error" in result.stderr
