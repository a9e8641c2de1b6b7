import pytest

# The copy tests' SQLite source: a migrated file with a writable alias on it.
from tests.dbcopy.conftest import migrated_sqlite, source  # noqa: F401


@pytest.fixture
def flag(settings, tmp_path):
    """This test's own maintenance flag."""
    settings.MAINTENANCE_FLAG_PATH = tmp_path / "maintenance.flag"
    return settings.MAINTENANCE_FLAG_PATH
