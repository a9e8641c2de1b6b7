"""The streamed export reads from the database chosen inside its request: after a write, the
user's export reads the primary like their list does, and the stream leaves no routing scope
behind when it ends after the request."""

import pytest
from django.db import DEFAULT_DB_ALIAS

from ops import pinning, routers
from ops.databases import DB_REPLICA_1
from tests.ops.test_read_pinning import ENTRIES, client_of, entry_reads
from tests.ops.test_router import Queries

pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, DB_REPLICA_1])

EXPORT = "/api/v1/journal/export"


@pytest.fixture
def clock(monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr(pinning, "clock", lambda: now[0])
    return now


@pytest.fixture
def dana():
    """A signed-in client, made inside a scope of its own: this thread, like a server's,
    then holds no routing scope between requests (whatever earlier tests left in it)."""
    outside = routers._scope.set(None)
    with routers.routing_scope():
        client = client_of("dana")
    yield client
    routers._scope.reset(outside)


def export(client):
    response = client.get(EXPORT)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_after_a_write_the_export_reads_the_primary(replica, clock, dana):
    assert dana.post(ENTRIES, {"content": "hello"}, format="json").status_code == 201

    with Queries() as exporting:
        body = export(dana)

    assert b'"content":"hello"' in body.replace(b" ", b"")
    assert entry_reads(exporting, DEFAULT_DB_ALIAS)
    assert not entry_reads(exporting, DB_REPLICA_1)


def test_a_reader_exports_from_one_replica_for_the_whole_stream(replica, clock, settings, dana):
    dana.post(ENTRIES, {"content": "hello"}, format="json")
    clock[0] += settings.REPLICA_PIN_SECONDS + 1

    with Queries() as exporting:
        export(dana)

    assert entry_reads(exporting, DB_REPLICA_1)
    assert not entry_reads(exporting, DEFAULT_DB_ALIAS)


def test_the_stream_leaves_no_routing_scope_behind(replica, clock, dana):
    dana.post(ENTRIES, {"content": "hello"}, format="json")

    export(dana)

    assert routers._scope.get() is None
