"""A key given while the app served SQLite is honoured on PostgreSQL after `copy_from_sqlite`,
and again on SQLite after `copy_to_sqlite`: the keys and their answers are data the copy
carries (and verifies) both ways."""

import json
import os

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from idempotency.models import IdempotencyKey
from journal.models import JournalEntry
from tests.processes import run_manage
from tests.resilience.http import call
from tests.resilience.server import app_server

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ENTRIES = "/api/v1/journal/entries"


def served_on_sqlite(path):
    """The app serving this SQLite file (DATABASE_URL empty: unset)."""
    return app_server(DATABASE_URL="", SQLITE_PATH=str(path))


def keyed_post(base_url, token, key, content):
    status, body, headers = call(
        base_url,
        "POST",
        ENTRIES,
        token=token,
        body={"content": content},
        headers={"Idempotency-Key": key},
    )
    return status, body, headers.get("Idempotent-Replayed")


def test_a_key_is_honoured_after_the_move_to_postgresql_and_after_the_way_back(source, tmp_path):
    issued = run_manage(
        "issue_tokens",
        "--provider",
        "google",
        "--subject",
        "mover",
        env={
            "SECRET_KEY": os.environ["SECRET_KEY"],
            # The servers and the test process sign and check tokens with this key too.
            "JWT_SIGNING_KEY": os.environ["JWT_SIGNING_KEY"],
            "SQLITE_PATH": str(source),
        },
    )
    assert issued.returncode == 0, issued.stderr
    token = json.loads(issued.stdout)["access"]
    with served_on_sqlite(source) as base_url:
        on_sqlite = keyed_post(base_url, token, "before the move", "written on SQLite")

    call_command("copy_from_sqlite", str(source))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    def post_on_postgres(key, content):
        # The very bytes the live server's client sends: the key covers the raw body.
        body = json.dumps({"content": content})
        return client.post(ENTRIES, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)

    replayed_on_postgres = post_on_postgres("before the move", "written on SQLite")
    on_postgres = post_on_postgres("after the move", "written on PostgreSQL")
    back = tmp_path / "back.sqlite3"
    call_command("copy_to_sqlite", str(back))
    with served_on_sqlite(back) as base_url:
        replays_back_on_sqlite = [
            keyed_post(base_url, token, "before the move", "written on SQLite"),
            keyed_post(base_url, token, "after the move", "written on PostgreSQL"),
        ]
        entries = call(base_url, "GET", ENTRIES, token=token)[1]

    assert on_sqlite[0] == 201 and on_sqlite[2] is None
    assert replayed_on_postgres.status_code == 201
    assert replayed_on_postgres["Idempotent-Replayed"] == "true"
    assert replayed_on_postgres.json() == on_sqlite[1]
    assert on_postgres.status_code == 201 and "Idempotent-Replayed" not in on_postgres
    assert replays_back_on_sqlite == [
        (201, on_sqlite[1], "true"),
        (201, on_postgres.json(), "true"),
    ]
    assert entries["count"] == 2
    assert JournalEntry.objects.count() == 2
    assert IdempotencyKey.objects.count() == 2
