"""docs/runbook.md, run as written: each command line of its blocks, in order, through bash,
on an install served by ``make serve`` (a copy of this checkout: its ``data/``, its ``.env``),
with the checkout's interpreter first on PATH and ``$PG`` the test database. Between the lines
the test does what the blocks' comments have the operator do (stop and start the app) and what
its users do (write through the API); only the example server's address is the test's. The
one-step moves its prose shows (``--switch``, there and back) run the same way, on the app
``make serve`` keeps serving."""

import json
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from dbcopy.capture import CHANGE_TABLE
from journal.models import JournalEntry
from tests.dbcopy.test_switch import call, pg_url_of_the_tests
from tests.docs.markdown import ROOT, block_holding, commands
from tests.docs.servers import checkout_copy, served_by_make, stop_serving

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

EXAMPLE_SERVER = "http://127.0.0.1:8000"
ENTRIES = "/api/v1/journal/entries"


class Install:
    """An install that ``make serve`` serves from a copy of this checkout, and the shell of
    its operator (nothing exported but ``$PG``, as the runbook says)."""

    def __init__(self, tmp_path: Path):
        self.root = checkout_copy(tmp_path / "checkout")
        self.logs = tmp_path
        self.env = {
            "PATH": f"{self.root / '.venv' / 'bin'}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            # The run goes through PgBouncer: so do the operator's commands and the app.
            **({"DB_POOLER": settings.DB_POOLER} if settings.DB_POOLER else {}),
        }
        self.server: subprocess.Popen | None = None
        self.base_url = ""
        self.starts = 0

    def serve(self, **env: str) -> None:
        self.starts += 1
        log = self.logs / f"make-serve-{self.starts}.log"
        # Two workers whatever the machine's CPUs: every one of them holds database connections.
        served_env = {**self.env, "GUNICORN_WORKERS": "2", **env}
        self.server, self.base_url = served_by_make("serve", served_env, log, cwd=self.root)

    def stop(self) -> None:
        if self.server is not None:
            stop_serving(self.server)
            self.server = None

    def run(self, line: str) -> str:
        """One line of the runbook, as the operator types it; what it printed."""
        result = subprocess.run(
            ["bash", "-c", line.replace(EXAMPLE_SERVER, self.base_url)],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"{line}: exit {result.returncode}\n{result.stderr}"
        return result.stdout

    def write(self, token: str, content: str) -> int:
        status, _ = call(self.base_url, token, "POST", ENTRIES, {"content": content})
        return status

    def contents(self, token: str) -> set[str]:
        status, page = call(self.base_url, token, "GET", f"{ENTRIES}?limit=100")
        assert status == 200, page
        return {entry["content"] for entry in page["results"]}

    def contents_in_file(self, relative: str) -> set[str]:
        with sqlite3.connect(self.root / relative) as db:
            return {row[0] for row in db.execute("SELECT content FROM journal_journalentry")}

    def tables_in_file(self, relative: str) -> set[str]:
        with sqlite3.connect(self.root / relative) as db:
            return {row[0] for row in db.execute("SELECT name FROM sqlite_master")}


def refused_for_maintenance(install: Install, token: str) -> bool:
    status, body = call(install.base_url, token, "POST", ENTRIES, {"content": "during the pause"})
    return (status, body["code"]) == (503, "maintenance")


def split_at_comment(text: str, comment: str) -> tuple[str, str]:
    """The block's text before the comment line starting with ``comment``, and from it on."""
    at = re.search(rf"^{re.escape(comment)}", text, flags=re.MULTILINE)
    assert at, f"the runbook's block no longer has the comment {comment!r}"
    return text[: at.start()], text[at.start() :]


def test_the_runbook_and_its_rollback_run_as_written_on_a_make_serve_install(tmp_path):
    cutover = block_holding("docs/runbook.md", "--cutover").text
    rollback = block_holding("docs/runbook.md", "copy_to_sqlite").text
    # Step 5 stops the app, replays, starts it on PostgreSQL, checks it and lets writes in.
    to_step_5, step_5 = split_at_comment(cutover, "# 5.")
    assert "start the app with DATABASE_URL=$PG" in " ".join(step_5.replace("#", "").split())
    to_restart, after_restart = split_at_comment(rollback, "# restart the app")
    restarted_on = re.match(
        r"# restart the app with DATABASE_URL unset and SQLITE_PATH=(\S+)$",
        after_restart.splitlines()[0],
    )
    assert restarted_on, after_restart.splitlines()[0]
    install = Install(tmp_path)
    try:
        install.serve()
        issued = install.run("python manage.py issue_tokens --provider google --subject writer")
        token = json.loads(issued)["access"]
        written = [f"written before the move {n}" for n in (1, 2)]
        assert [install.write(token, content) for content in written] == [201, 201]

        for line in commands(to_step_5):
            if line.startswith("export PG="):  # the example's database: here the test's
                install.env["PG"] = pg_url_of_the_tests()
                continue
            install.run(line)
            if line.endswith("--capture"):  # the app keeps serving on SQLite meanwhile
                written.append("written after the copy started")
                assert install.write(token, written[-1]) == 201
            if line.endswith("--cutover"):  # writes paused, reads go on
                assert refused_for_maintenance(install, token)
                assert install.contents(token) == set(written)
        install.stop()
        for line in commands(step_5):
            if line.startswith("curl"):
                install.serve(DATABASE_URL=install.env["PG"])
                assert json.loads(install.run(line)) == {"status": "ready"}
            else:
                install.run(line)

        # The app answers from PostgreSQL with everything written on SQLite, and writes there.
        assert install.contents(token) == set(written)
        assert install.write(token, "written on PostgreSQL") == 201
        written.append("written on PostgreSQL")
        in_postgres = JournalEntry.objects.filter(content__in=written)
        assert set(in_postgres.values_list("content", flat=True)) == set(written)
        assert "written on PostgreSQL" not in install.contents_in_file("data/db.sqlite3")
        assert CHANGE_TABLE not in install.tables_in_file("data/db.sqlite3")

        for line in commands(to_restart):
            install.run(line)
            if line.endswith("maintenance on"):
                assert refused_for_maintenance(install, token)
        install.stop()
        install.serve(SQLITE_PATH=restarted_on.group(1))
        for line in commands(after_restart):
            install.run(line)

        # Back on SQLite, in the rollback file, with every write made on PostgreSQL.
        assert install.contents(token) == set(written)
        assert install.write(token, "written after the rollback") == 201
        rolled_back = install.contents_in_file(restarted_on.group(1))
        assert rolled_back == {*written, "written after the rollback"}
        assert not JournalEntry.objects.filter(content="written after the rollback").exists()
    finally:
        install.stop()


def switch_commands() -> tuple[str, str]:
    """The one-step moves the runbook's prose shows, there and back, as written."""
    text = (ROOT / "docs/runbook.md").read_text()
    shown = re.findall(
        r"`((?:DATABASE_URL=\$PG )?python manage\.py [^`]*data/[^`]*--switch)`", text
    )
    there = [line for line in shown if "copy_from_sqlite" in line]
    back = [line for line in shown if "copy_to_sqlite" in line]
    assert len(there) == len(back) == 1, shown
    return there[0], back[0]


def test_the_runbooks_one_step_moves_run_as_written_on_a_make_serve_install(tmp_path):
    there, back = switch_commands()
    cutover = block_holding("docs/runbook.md", "--cutover").text
    to_step_4, _ = split_at_comment(cutover, "# 4.")
    _, step_6 = split_at_comment(cutover, "# 6.")
    install = Install(tmp_path)
    try:
        install.serve()
        issued = install.run("python manage.py issue_tokens --provider google --subject writer")
        token = json.loads(issued)["access"]
        written = ["written before the move"]
        assert install.write(token, written[0]) == 201
        for line in commands(to_step_4):
            if line.startswith("export PG="):  # the example's database: here the test's
                install.env["PG"] = pg_url_of_the_tests()
                continue
            install.run(line)
        written.append("written after the copy started")
        assert install.write(token, written[-1]) == 201

        assert "switched" in install.run(there)

        # The same server, never restarted by hand, now answers from PostgreSQL.
        assert install.contents(token) == set(written)
        written.append("written on PostgreSQL")
        assert install.write(token, written[-1]) == 201
        in_postgres = JournalEntry.objects.filter(content__in=written)
        assert set(in_postgres.values_list("content", flat=True)) == set(written)
        assert "written on PostgreSQL" not in install.contents_in_file("data/db.sqlite3")
        for line in commands(step_6):
            install.run(line)
        assert CHANGE_TABLE not in install.tables_in_file("data/db.sqlite3")

        assert "switched" in install.run(back)

        rollback_file = back.split("copy_to_sqlite ", 1)[1].split()[0]
        assert install.contents(token) == set(written)
        assert install.write(token, "written after the rollback") == 201
        rolled_back = install.contents_in_file(rollback_file)
        assert rolled_back == {*written, "written after the rollback"}
        assert not JournalEntry.objects.filter(content="written after the rollback").exists()
    finally:
        install.stop()
