"""Fixtures of the configuration tests: a read replica that mirrors the test database."""

import pytest
from django.db import connections

from config.database import DB_REPLICA_1
from config.routers import replica_health


@pytest.fixture
def replica(settings):
    settings.DATABASE_REPLICAS = [DB_REPLICA_1]
    replica_health.forget()
    yield DB_REPLICA_1
    replica_health.forget()
    # The test runner never closes a mirror: its pool would outlive the test database.
    connections[DB_REPLICA_1].close()
    if connections[DB_REPLICA_1].vendor == "postgresql":
        connections[DB_REPLICA_1].close_pool()
