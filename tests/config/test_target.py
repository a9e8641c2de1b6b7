import stat
from pathlib import Path

import pytest

from config.env import ConfigError
from config.target import database_target
from dbcopy.target import sqlite_url, write_target
from tests.processes import run_manage

PG = "postgres://app:secret@db.internal:5432/journal"


def target(tmp_path, url=None, text=None):
    path = tmp_path / "database_target"
    if text is not None:
        path.write_text(text)
    return database_target(
        url, target_path=path, sqlite_path=tmp_path / "db.sqlite3", base_dir=tmp_path
    )


def test_without_database_url_or_target_file_the_app_serves_sqlite_path(tmp_path):
    chosen = target(tmp_path)

    assert chosen.url is None
    assert chosen.sqlite_path == tmp_path / "db.sqlite3"


def test_the_target_file_names_postgresql_when_database_url_is_unset(tmp_path):
    chosen = target(tmp_path, text=PG + "\n")

    assert chosen.url == PG
    assert chosen.source == str(tmp_path / "database_target")


def test_database_url_set_wins_over_the_target_file(tmp_path):
    chosen = target(tmp_path, url="postgres://other/db", text=PG)

    assert chosen.url == "postgres://other/db"
    assert chosen.source == "DATABASE_URL"


def test_a_sqlite_target_names_the_file_served(tmp_path):
    rollback = tmp_path / "rollback.sqlite3"

    absolute = target(tmp_path, text=sqlite_url(rollback))
    relative = target(tmp_path, text="sqlite:///data/rollback.sqlite3")

    assert absolute.url is None and absolute.sqlite_path == rollback
    assert relative.sqlite_path == tmp_path / "data" / "rollback.sqlite3"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "must hold one database URL"),
        (PG + "\n" + PG, "must hold one database URL"),
        ("mysql://db/journal", "must hold a postgres:// or sqlite:/// URL"),
        ("sqlite:///", "must hold a postgres:// or sqlite:/// URL"),
        ("postgres://db.internal:5432/", "must name a database (postgres://host/NAME)"),
    ],
)
def test_a_bad_target_file_stops_start_up_with_one_line(tmp_path, text, reason):
    with pytest.raises(ConfigError) as raised:
        target(tmp_path, text=text)

    assert str(raised.value) == (
        f"configuration error: the database target file {tmp_path / 'database_target'} {reason}"
    )


def test_the_target_file_is_replaced_whole_and_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "data" / "database_target"
    write_target(path, "sqlite:////old.sqlite3")
    write_target(path, PG)

    assert path.read_text() == PG + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["database_target"]


def env_for(tmp_path, **extra):
    return {
        "DEBUG": "1",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "DATABASE_TARGET_PATH": str(tmp_path / "database_target"),
        **extra,
    }


def test_manage_py_serves_the_sqlite_file_the_target_names(tmp_path):
    rollback = tmp_path / "rollback.sqlite3"
    write_target(tmp_path / "database_target", sqlite_url(rollback))

    result = run_manage("migrate", "--verbosity", "0", env=env_for(tmp_path))

    assert result.returncode == 0, result.stderr
    assert rollback.exists()
    assert not Path(tmp_path / "db.sqlite3").exists()


def test_manage_py_with_a_bad_target_file_says_so_in_one_line(tmp_path):
    (tmp_path / "database_target").write_text("redis://cache/0\n")

    result = run_manage("check", env=env_for(tmp_path))

    assert result.returncode != 0
    assert result.stderr.strip() == (
        f"configuration error: the database target file {tmp_path / 'database_target'} "
        "must hold a postgres:// or sqlite:/// URL"
    )
