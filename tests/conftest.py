import copy
import os
import uuid

import pytest
import redis
from django.db import DEFAULT_DB_ALIAS, connections
from rest_framework.test import APIClient

from accounts.identity import forget_provider_keys
from accounts.services import upsert_user
from ops.databases import DB_REPLICA_1
from ops.routers import replica_health
from ops.shared_state import shared_state
from tests.idp import IdentityProvider
from tokens.services import start_session


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skip_marker, reason = (
        ("sqlite_only", "about SQLite as the database (runs on the SQLite leg)")
        if on_postgres
        else ("postgres_only", "needs PostgreSQL (runs on the PostgreSQL leg)")
    )
    for item in items:
        if skip_marker in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    # A read replica alias that mirrors the test database, for the router's tests (which opt
    # in with settings.DATABASE_REPLICAS; other tests keep reading from default).
    if DB_REPLICA_1 not in connections.settings:
        connections.settings[DB_REPLICA_1] = connections.configure_settings(
            {
                DEFAULT_DB_ALIAS: {},
                DB_REPLICA_1: copy.deepcopy(connections.settings[DEFAULT_DB_ALIAS]),
            }
        )[DB_REPLICA_1]
        connections.settings[DB_REPLICA_1]["TEST"]["MIRROR"] = DEFAULT_DB_ALIAS
    # A pool opened before the test database exists would keep serving the real database.
    for connection in connections.all():
        if connection.vendor == "postgresql":
            connection.close_pool()


@pytest.fixture
def replica(settings):
    """Reads may go to ``replica_1``, which mirrors the test database."""
    settings.DATABASE_REPLICAS = [DB_REPLICA_1]
    replica_health.forget()
    yield DB_REPLICA_1
    replica_health.forget()
    # The test runner never closes a mirror: its pool would outlive the test database.
    connections[DB_REPLICA_1].close()
    if connections[DB_REPLICA_1].vendor == "postgresql":
        connections[DB_REPLICA_1].close_pool()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    yield
    # Then pytest-django drops the test database, through a connection made from these
    # settings: on a loaded machine removing its files can outlast the app's statement
    # timeout, which guards requests, not the suite's teardown.
    for connection in connections.all():
        if connection.vendor == "postgresql":
            connection.settings_dict["OPTIONS"].pop("options", None)


@pytest.fixture(autouse=True)
def _no_throttle_history():
    # Login, refresh and the webhook are rate limited per client address, and every test
    # client has the same address: each test starts with nothing counted.
    shared_state().clear()


@pytest.fixture
def idp(settings):
    """A running identity provider configured as ``google``."""
    provider = IdentityProvider()
    uri = provider.start()
    settings.AUTH_PROVIDERS = {"google": provider.settings_entry(uri)}
    forget_provider_keys()
    yield provider
    forget_provider_keys()
    provider.stop()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def user(db):
    return upsert_user(provider="google", provider_subject="alice-sub", email="alice@example.com")


@pytest.fixture
def other_user(db):
    return upsert_user(provider="apple", provider_subject="bob-sub", email="bob@example.com")


@pytest.fixture
def login(db):
    """Start a session for a user; returns the token pair."""

    def _login(user, fingerprint=""):
        return start_session(user=user, fingerprint=fingerprint)

    return _login


@pytest.fixture
def auth_api(user, login):
    """An API client signed in as ``user``; ``auth_api.pair`` is its token pair."""
    client = APIClient()
    client.pair = login(user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {client.pair.access}")
    return client


@pytest.fixture(scope="session")
def redis_url():
    """The machine's Redis (``REDIS_TEST_URL``, else 127.0.0.1:6379). Unreachable, the tests
    that need it are skipped, unless ``REQUIRE_REDIS=1`` (CI) makes that a failure."""
    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis at {url} is unreachable and REQUIRE_REDIS=1: {exc}")
        pytest.skip(f"Redis at {url} is unreachable")
    return url


@pytest.fixture
def redis_prefix(redis_url):
    """A key prefix of this test's own on the shared Redis, deleted afterwards."""
    prefix = f"journal-test-{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
