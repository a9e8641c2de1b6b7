"""`copy_from_sqlite --cutover --switch` and `copy_to_sqlite --switch` against the app served
as `make serve` serves it (gunicorn, its pid file), with a client writing through the API."""

import json
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from dbcopy.sqlite import close_alias
from journal.models import JournalEntry
from tests.dbcopy.conftest import FILL
from tests.dbcopy.data import fill
from tests.ops.test_serving import Server
from tests.processes import run_manage

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

SECRET_KEY = "s" * 50


class ApiWriter(threading.Thread):
    """A client adding entries one after another; remembers what each answer was."""

    def __init__(self, base, token):
        super().__init__(daemon=True)
        self.base, self.token = base, token
        self.stop = threading.Event()
        self.answers: list[tuple[str, int]] = []
        self.lock = threading.Lock()

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            content = f"live {n}"
            request = urllib.request.Request(
                self.base + "/api/v1/journal/entries",
                data=json.dumps({"content": content}).encode(),
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/json",
                },
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:  # no answer at all: the test fails on it
                status = 0
            with self.lock:
                self.answers.append((content, status))

    def count(self, status):
        with self.lock:
            return sum(1 for _, s in self.answers if s == status)

    def wait_for(self, status, count, timeout=60):
        event = threading.Event()
        for _ in range(int(timeout / 0.05)):
            if self.count(status) >= count:
                return
            event.wait(0.05)
        raise AssertionError(f"only {self.count(status)} answers {status}: {self.answers[-5:]}")

    def accepted_since(self, index):
        with self.lock:
            return [c for c, s in self.answers[index:] if s == 201]


def access_token(source):
    """A user and an access token in the SQLite file the app serves first."""
    code = (
        "from accounts.models import User; from tokens.services import issue_refresh_token; "
        "u = User(provider='google', provider_subject='writer'); u.set_unusable_password(); "
        "u.save(); print(issue_refresh_token(user=u).access)"
    )
    result = run_manage(
        "shell",
        "-c",
        code,
        env={"DEBUG": "1", "SECRET_KEY": SECRET_KEY, "SQLITE_PATH": str(source)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[-1]


def pg_url_of_the_tests():
    """DATABASE_URL naming the test database (the one this process uses)."""
    cfg = connection.settings_dict
    user = urllib.parse.quote(cfg["USER"] or "")
    password = f":{urllib.parse.quote(cfg['PASSWORD'])}" if cfg["PASSWORD"] else ""
    port = f":{cfg['PORT']}" if cfg["PORT"] else ""
    return f"postgres://{user}{password}@{cfg['HOST']}{port}/{cfg['NAME']}"


@pytest.fixture
def state(tmp_path):
    return {
        "MAINTENANCE_FLAG_PATH": str(tmp_path / "maintenance.flag"),
        "DATABASE_TARGET_PATH": str(tmp_path / "database_target"),
        "GUNICORN_PID_FILE": str(tmp_path / "gunicorn.pid"),
        "SECRET_KEY": SECRET_KEY,
        # The run goes through PgBouncer: so do the operator's commands and the moved app.
        **({"DB_POOLER": django_settings.DB_POOLER} if django_settings.DB_POOLER else {}),
    }


def contents_in(alias, contents):
    entries = JournalEntry.objects.using(alias).filter(content__in=contents)
    return set(entries.values_list("content", flat=True))


def test_cutover_with_switch_moves_the_serving_app_to_postgresql_and_back(
    source, tmp_path, state, sqlite_alias
):
    fill(FILL, users=2)
    token = access_token(source)
    call_command("copy_from_sqlite", str(source), "--capture", "--no-progress")
    # Closed while other processes use the file: the last of them to close it deletes its
    # -wal and -shm files, which a connection held open here would go on reading.
    close_alias(FILL)
    served = tmp_path / "served"
    served.mkdir()
    # As many writes as the writer makes: no 429 among the answers.
    with Server(
        served, SQLITE_PATH=str(source), THROTTLE_WRITE_RATE="100000/min", **state
    ) as server:
        writer = ApiWriter(server.base, token)
        writer.start()
        try:
            writer.wait_for(201, 10)
            result = run_manage(
                "copy_from_sqlite",
                str(source),
                "--cutover",
                "--switch",
                "--no-progress",
                env={**state, "DEBUG": "1", "DATABASE_URL": pg_url_of_the_tests()},
                timeout=300,
            )
            after_switch = len(writer.answers)
            writer.wait_for(201, writer.count(201) + 10)
            on_postgres = writer.accepted_since(after_switch)

            before_rollback = len(writer.answers)
            rollback = tmp_path / "rollback.sqlite3"
            # As the operator would: DATABASE_URL unset, the target file names PostgreSQL.
            back = run_manage(
                "copy_to_sqlite",
                str(rollback),
                "--switch",
                "--no-progress",
                env={**state, "DEBUG": "1", "SQLITE_PATH": str(source)},
                timeout=300,
            )
            after_rollback = len(writer.answers)
            writer.wait_for(201, writer.count(201) + 10)
            on_rollback = writer.accepted_since(after_rollback)
        finally:
            writer.stop.set()
            writer.join(60)

    assert result.returncode == 0, result.stderr
    assert "switched: gunicorn" in result.stdout
    assert back.returncode == 0, back.stderr
    assert "switched: gunicorn" in back.stdout
    assert {status for _, status in writer.answers} <= {201, 503}
    assert writer.count(503) > 0, "writes are refused while the app moves"
    assert not (tmp_path / "maintenance.flag").exists()
    # Nothing acknowledged is lost: every write accepted before the rollback started is in
    # PostgreSQL, and every one of the run is in the rollback file. What was accepted after
    # the cutover's switch went to PostgreSQL only, after the rollback's to the new file only.
    accepted = [c for c, s in writer.answers if s == 201]
    before = [c for c, s in writer.answers[:before_rollback] if s == 201]
    in_postgres = contents_in("default", accepted)
    assert set(before) <= in_postgres
    assert contents_in(sqlite_alias("rollback", rollback), accepted) == set(accepted)
    assert on_postgres and contents_in(sqlite_alias("served", source), on_postgres) == set()
    assert on_rollback and not set(on_rollback) & in_postgres


def test_switch_without_a_running_gunicorn_is_refused_before_anything_pauses(
    source, tmp_path, settings
):
    fill(FILL, users=1)
    call_command("copy_from_sqlite", str(source), "--capture", "--no-progress")
    settings.MAINTENANCE_FLAG_PATH = tmp_path / "maintenance.flag"
    settings.DATABASE_TARGET_PATH = tmp_path / "database_target"
    settings.GUNICORN_PID_FILE = tmp_path / "gunicorn.pid"
    added = JournalEntry.objects.using(FILL).count()

    with pytest.raises(CommandError) as missing:
        call_command("copy_from_sqlite", str(source), "--cutover", "--switch")
    (tmp_path / "gunicorn.pid").write_text("1\n")  # init, not gunicorn
    with pytest.raises(CommandError) as stale:
        call_command("copy_from_sqlite", str(source), "--cutover", "--switch")
    with pytest.raises(CommandError) as rollback:
        call_command("copy_to_sqlite", str(tmp_path / "back.sqlite3"), "--switch")

    assert str(missing.value) == (
        "--switch moves an app served by `make serve` (gunicorn): no gunicorn pid file at "
        f"{tmp_path / 'gunicorn.pid'}"
    )
    assert str(stale.value) == (
        "--switch moves an app served by `make serve` (gunicorn): gunicorn (pid 1 in "
        f"{tmp_path / 'gunicorn.pid'}) is not running"
    )
    assert str(rollback.value) == str(stale.value)
    assert not (tmp_path / "maintenance.flag").exists()
    assert not (tmp_path / "database_target").exists()
    assert not (tmp_path / "back.sqlite3").exists()
    assert JournalEntry.objects.count() == added  # the capture copy only, nothing caught up


def test_switch_goes_with_cutover_only(source):
    with pytest.raises(CommandError, match=r"^--switch goes with --cutover only$"):
        call_command("copy_from_sqlite", str(source), "--catch-up", "--switch")


@pytest.mark.parametrize(
    ("served_with", "reason"),
    [
        (
            lambda tmp_path: {"DATABASE_URL": pg_url_of_the_tests()},
            "runs with DATABASE_URL set, which wins over the database target file, so its "
            "workers would stay where they are: serve with DATABASE_URL unset (`make serve`), "
            "or move the app by hand",
        ),
        (
            lambda tmp_path: {"DATABASE_TARGET_PATH": str(tmp_path / "elsewhere")},
            "reads the database target file {tmp_path}/elsewhere, this command writes "
            "{tmp_path}/database_target: give both the same DATABASE_TARGET_PATH",
        ),
    ],
    ids=["database-url-set", "another-target-file"],
)
def test_switch_is_refused_before_anything_pauses_when_the_workers_would_not_move(
    source, tmp_path, state, settings, served_with, reason
):
    # Either way the reload would leave the app where it is, and maintenance would then go
    # off on the database the operator is leaving.
    fill(FILL, users=1)
    call_command("copy_from_sqlite", str(source), "--capture", "--no-progress")
    settings.MAINTENANCE_FLAG_PATH = tmp_path / "maintenance.flag"
    settings.DATABASE_TARGET_PATH = tmp_path / "database_target"
    settings.GUNICORN_PID_FILE = tmp_path / "gunicorn.pid"
    added = JournalEntry.objects.count()
    (tmp_path / "server").mkdir()
    served = {**state, "SQLITE_PATH": str(source), "GUNICORN_WORKERS": "1"}

    with Server(tmp_path / "server", **{**served, **served_with(tmp_path)}) as server:
        master = server.process.pid
        with pytest.raises(CommandError) as cutover:
            call_command("copy_from_sqlite", str(source), "--cutover", "--switch")
        with pytest.raises(CommandError) as rollback:
            call_command("copy_to_sqlite", str(tmp_path / "back.sqlite3"), "--switch")

    expected = f"--switch: gunicorn (pid {master}) " + reason.format(tmp_path=tmp_path)
    assert str(cutover.value) == expected
    assert str(rollback.value) == expected
    assert not (tmp_path / "maintenance.flag").exists()
    assert not (tmp_path / "database_target").exists()
    assert not (tmp_path / "back.sqlite3").exists()
    assert JournalEntry.objects.count() == added  # the capture copy only, nothing caught up
