import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType

from dbcopy.sqlite import close_alias, register_sqlite_alias

ROOT = Path(__file__).resolve().parents[2]
FILL = "fill_source"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """A SQLite file with every migration applied, made once by `manage.py migrate`."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"SQLITE_PATH": str(path), "DEBUG": "1"})
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    return path


@pytest.fixture
def source(tmp_path, migrated_sqlite):
    """A fresh migrated SQLite source; ``FILL`` is a writable alias on it for the test."""
    path = tmp_path / "source.sqlite3"
    shutil.copy(migrated_sqlite, path)
    register_sqlite_alias(FILL, path, read_only=False)
    yield path
    close_alias(FILL)
    ContentType.objects.clear_cache()


@pytest.fixture
def sqlite_alias():
    """Open another SQLite file as an alias (to read a rollback copy with the ORM)."""
    opened = []

    def _open(alias, path):
        register_sqlite_alias(alias, path, read_only=False)
        opened.append(alias)
        return alias

    yield _open
    for alias in opened:
        close_alias(alias)
