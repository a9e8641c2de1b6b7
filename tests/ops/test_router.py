"""The router with a read replica: ``replica_1`` mirrors the test database
(``TEST={"MIRROR": "default"}``, see tests/conftest.py), so where each query ran is told by
the connection that ran it."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections, router, transaction
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import upsert_user
from dbcopy.routers import COPY_SOURCE, ROLLBACK_TARGET
from journal.models import JournalEntry
from ops.databases import DB_REPLICA_1
from ops.routers import DatabaseRouter, replica_health, routing_scope
from tokens.services import start_session

pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, DB_REPLICA_1])


@pytest.fixture
def replica_down(replica, monkeypatch, tmp_path):
    """``replica_1`` pointing at a database that cannot be reached: a closed port for
    PostgreSQL, a file in a directory that does not exist for SQLite."""
    settings_dict = {**connections[DB_REPLICA_1].settings_dict}
    if connection.vendor == "postgresql":
        settings_dict.update(HOST="127.0.0.1", PORT=1)
    else:
        settings_dict.update(NAME=str(tmp_path / "missing" / "db.sqlite3"))
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, DB_REPLICA_1)
    monkeypatch.setattr(connections._connections, DB_REPLICA_1, wrapper)
    return DB_REPLICA_1


class Queries:
    """The SQL each alias ran inside the block."""

    def __init__(self, aliases=(DEFAULT_DB_ALIAS, DB_REPLICA_1)):
        self.aliases = aliases

    def __enter__(self):
        self._captures = {
            alias: CaptureQueriesContext(connections[alias]) for alias in self.aliases
        }
        for capture in self._captures.values():
            capture.__enter__()
        return self

    def __exit__(self, *exc):
        for capture in self._captures.values():
            capture.__exit__(*exc)

    def on(self, alias) -> list[str]:
        return [q["sql"] for q in self._captures[alias].captured_queries]


def writes(sql: list[str]) -> list[str]:
    return [s for s in sql if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]


def test_reads_go_to_the_replica_and_writes_to_default(replica):
    with routing_scope(), Queries() as queries:
        User.objects.count()
        first_read_on = DatabaseRouter().db_for_read(User)
        upsert_user(provider="google", provider_subject="dana")

    assert first_read_on == DB_REPLICA_1
    assert any("COUNT" in sql.upper() for sql in queries.on(DB_REPLICA_1))
    assert writes(queries.on(DEFAULT_DB_ALIAS))
    assert writes(queries.on(DB_REPLICA_1)) == []


def test_after_a_write_reads_in_the_same_scope_stay_on_default(replica):
    with routing_scope():
        user = upsert_user(provider="google", provider_subject="dana")
        with Queries() as queries:
            found = User.objects.filter(pk=user.pk).exists()

    assert found
    assert queries.on(DB_REPLICA_1) == []
    assert queries.on(DEFAULT_DB_ALIAS)


def test_a_new_scope_reads_from_the_replica_again(replica):
    with routing_scope():
        upsert_user(provider="google", provider_subject="dana")

    with routing_scope(), Queries() as queries:
        assert User.objects.filter(provider_subject="dana").exists()

    assert queries.on(DB_REPLICA_1)
    assert queries.on(DEFAULT_DB_ALIAS) == []


def test_reads_inside_a_transaction_stay_on_default(replica):
    with routing_scope(), Queries() as queries, transaction.atomic():
        User.objects.count()

    assert queries.on(DB_REPLICA_1) == []
    assert any("COUNT" in sql.upper() for sql in queries.on(DEFAULT_DB_ALIAS))


def test_a_request_reads_from_the_replica_until_it_writes(replica):
    user = upsert_user(provider="google", provider_subject="dana")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {start_session(user=user).access}")

    with Queries() as listing:
        assert client.get("/api/v1/journal/entries").status_code == 200
    with Queries() as creating:
        created = client.post("/api/v1/journal/entries", {"content": "hello"}, format="json")

    assert any("journal_journalentry" in q for q in listing.on(DB_REPLICA_1))
    # Only authentication reads the primary: a revoked token or deleted account stops at once.
    assert listing.on(DEFAULT_DB_ALIAS)
    assert all(
        "tokens_revokedjti" in q or "accounts_user" in q for q in listing.on(DEFAULT_DB_ALIAS)
    ), listing.on(DEFAULT_DB_ALIAS)
    assert created.status_code == 201
    assert writes(creating.on(DEFAULT_DB_ALIAS))
    assert writes(creating.on(DB_REPLICA_1)) == []
    # The next request reads what the last one wrote (the mirror has it at once).
    assert client.get(f"/api/v1/journal/entries/{created.json()['id']}").status_code == 200


def test_a_replica_that_is_down_is_skipped(replica_down):
    upsert_user(provider="google", provider_subject="dana")

    with routing_scope(), Queries([DEFAULT_DB_ALIAS]) as queries:
        count = User.objects.count()
        read_on = DatabaseRouter().db_for_read(User)

    assert count == 1
    assert read_on == DEFAULT_DB_ALIAS
    assert queries.on(DEFAULT_DB_ALIAS)
    assert replica_health.is_up(DB_REPLICA_1) is False


def test_without_replicas_everything_goes_to_default(settings):
    settings.DATABASE_REPLICAS = []

    with routing_scope():
        assert DatabaseRouter().db_for_read(JournalEntry) == DEFAULT_DB_ALIAS
        assert DatabaseRouter().db_for_write(JournalEntry) == DEFAULT_DB_ALIAS


def test_only_default_and_the_rollback_target_are_ever_migrated():
    # The routers of the settings, in their order (the site's, then the copy's).
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "journal") is True
    assert router.allow_migrate(ROLLBACK_TARGET, "journal") is True
    assert router.allow_migrate(COPY_SOURCE, "journal") is False
    assert router.allow_migrate(DB_REPLICA_1, "journal") is False
    assert router.allow_migrate("replica_2", "journal") is False


def test_dumpdata_dumps_the_apps_rows_and_not_the_servers_own_views():
    user = upsert_user(provider="google", provider_subject="dumped")
    out = StringIO()

    call_command("dumpdata", "--exclude", "contenttypes", "--exclude", "auth", stdout=out)

    dumped = {(row["model"], str(row["pk"])) for row in json.loads(out.getvalue())}
    assert ("accounts.user", str(user.pk)) in dumped
    assert not [model for model, _ in dumped if model.startswith("ops.")]


def test_rows_read_from_a_replica_may_be_related_to_rows_of_default(replica):
    user = upsert_user(provider="google", provider_subject="dana")
    from_replica = User.objects.using(DB_REPLICA_1).get(pk=user.pk)

    entry = JournalEntry(user=from_replica, content="x", size_bytes=1)

    assert entry.user_id == user.pk
    assert DatabaseRouter().allow_relation(from_replica, user) is True
