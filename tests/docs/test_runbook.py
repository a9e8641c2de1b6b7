"""docs/runbook.md, run as written: each command line of its blocks, in order, on the test's
databases. ``$PG`` is the test database, ``data/db.sqlite3`` the test's SQLite source (kept
being written while the app would still write to it), the app the live test server."""

import json
import shlex
import sqlite3
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from dbcopy.capture import CHANGE_TABLE
from dbcopy.sqlite import close_alias, register_sqlite_alias
from ops import maintenance
from tests.dbcopy.conftest import FILL
from tests.dbcopy.data import add_entry, differences, fill
from tests.docs.markdown import block_holding, commands

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

EXAMPLE_SERVER = "http://127.0.0.1:8000"


def run_step(line: str, *, files: dict, server: str) -> str:
    """One line of the runbook, as the operator types it; what it printed."""
    words = shlex.split(line)
    if words[0] == "export":  # naming the target database: here it is the test database
        return ""
    if words[0].startswith("DATABASE_URL="):
        words = words[1:]
    if words[:2] == ["python", "manage.py"]:
        out = StringIO()
        call_command(*[str(files.get(word, word)) for word in words[2:]], stdout=out)
        return out.getvalue()
    if words[0] == "curl":
        command = line.replace(EXAMPLE_SERVER, server)
        result = subprocess.run(
            ["bash", "-euc", command], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, f"{line}: {result.stderr}"
        return result.stdout
    raise AssertionError(f"the runbook shows a command this test cannot run: {line}")


def test_the_runbook_runs_step_by_step(source, flag, live_server):
    block = block_holding("docs/runbook.md", "--cutover")
    users = fill(FILL, users=3)
    printed = []

    for line in commands(block.text):
        printed.append(
            run_step(line, files={"data/db.sqlite3": str(source)}, server=live_server.url)
        )
        if line.endswith("--capture"):  # the app goes on writing to SQLite meanwhile
            add_entry(FILL, user_id=users[0].pk, content="written after the copy started")

    assert json.loads(printed[commands(block.text).index(
        "curl -fsS http://127.0.0.1:8000/readyz")]) == {"status": "ready"}  # fmt: skip
    assert differences(FILL, "default") == {}
    assert not maintenance.is_on()
    with sqlite3.connect(source) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert CHANGE_TABLE not in tables, "--stop-capture removed the change log"


def test_the_rollback_runs_step_by_step(source, flag, tmp_path):
    fill(FILL, users=2)
    call_command("copy_from_sqlite", str(source), stdout=StringIO())  # the cutover's result
    User.objects.create(provider="google", provider_subject="after-the-cutover")
    rollback = tmp_path / "rollback.sqlite3"
    block = block_holding("docs/runbook.md", "copy_to_sqlite")

    for line in commands(block.text):
        run_step(line, files={"data/rollback.sqlite3": rollback}, server="")

    assert not maintenance.is_on()
    register_sqlite_alias("rolled_back", rollback, read_only=True)
    try:
        assert differences("rolled_back", "default") == {}
        assert (
            User.objects.using("rolled_back").filter(provider_subject="after-the-cutover").exists()
        )
    finally:
        close_alias("rolled_back")
