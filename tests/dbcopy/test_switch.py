"""`copy_from_sqlite --cutover --switch` and `copy_to_sqlite --switch` against the app served
as `make serve` serves it (gunicorn, its pid file), with a client writing through the API."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from config.target import DatabaseTarget
from dbcopy import pg_capture, switch
from dbcopy.rollback import create_rollback_file
from dbcopy.sqlite import close_alias
from dbcopy.tables import copied_tables
from dbcopy.target import sqlite_url, write_target
from journal.models import JournalEntry
from ops import maintenance
from scripts import api_client
from tests.dbcopy.conftest import FILL
from tests.dbcopy.data import fill
from tests.ops.test_serving import Server
from tests.processes import ROOT, run_manage

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

SECRET_KEY = "s" * 50


def call(base, token, method, path, body=None, request_id=None):
    """(status, JSON body or None); status 0 when no answer came at all."""
    headers = {"X-Request-ID": request_id} if request_id else None
    answer = api_client.call(
        base, method, path, token=token, body=body, headers=headers, timeout=30
    )
    return answer.status, answer.body


class ApiWriter(threading.Thread):
    """A client adding entries one after another and reading each back at once (read your
    writes); remembers every answer."""

    def __init__(self, base, token):
        super().__init__(daemon=True)
        self.base, self.token = base, token
        self.stop = threading.Event()
        self.answers: list[tuple[str, int]] = []  # (content, status of its POST)
        self.reads: list[tuple[str, int]] = []  # (content, status of reading it back)
        self.lock = threading.Lock()

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            content = f"live-{n}"
            status, body = call(
                self.base,
                self.token,
                "POST",
                "/api/v1/journal/entries",
                {"content": content},
                request_id=content,
            )
            with self.lock:
                self.answers.append((content, status))
            if status == 201:
                read, _ = call(
                    self.base, self.token, "GET", f"/api/v1/journal/entries/{body['id']}"
                )
                with self.lock:
                    self.reads.append((content, read))

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


def held_requests(server):
    """What the server's workers did with each request they held while the app moved, by
    request id: "held" (still waiting), "served" or "refused" (its error log, JSON lines)."""
    outcome = {}
    for line in server.stderr.read_text().splitlines():
        record = json.loads(line)
        message = record.get("message")
        if message == "request held while the app moves":
            outcome[record["request_id"]] = "held"
        elif message in ("held request served", "held request refused"):
            outcome[record["request_id"]] = message.split()[-1]
    return outcome


def wait_for_held(server, request_id, outcome="held", timeout=60):
    event = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if held_requests(server).get(request_id) == outcome:
            return
        event.wait(0.02)
    raise AssertionError(f"request {request_id} never {outcome}: {held_requests(server)}")


def access_token(source):
    """A user and an access token in the SQLite file the app serves first."""
    code = (
        "from accounts.models import User; from tokens.services import start_session; "
        "u = User(provider='google', provider_subject='writer'); u.set_unusable_password(); "
        "u.save(); print(start_session(user=u).access)"
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


def test_both_moves_hold_requests_refuse_none_and_lose_no_write(
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
        finally:
            writer.stop.set()
            writer.join(60)

    assert result.returncode == 0, result.stderr
    assert "switched: gunicorn" in result.stdout
    assert back.returncode == 0, back.stderr
    assert "switched: gunicorn" in back.stdout
    # No request refused, failed or unanswered, both ways; every write read back at once.
    assert {status for _, status in writer.answers} == {201}
    assert {status for _, status in writer.reads} == {200}
    assert not (tmp_path / "maintenance.flag").exists()
    assert not (tmp_path / "maintenance.flag.hold").exists()
    # Whatever a move held was served.
    assert "refused" not in held_requests(server).values()

    accepted = [c for c, s in writer.answers if s == 201]
    before = [c for c, s in writer.answers[:before_rollback] if s == 201]
    after_rollback_started = [c for c, s in writer.answers[after_rollback:] if s == 201]
    in_postgres = contents_in("default", accepted)
    in_source = contents_in(sqlite_alias("served", source), accepted)
    in_rollback = contents_in(sqlite_alias("rollback", rollback), accepted)
    # Nothing acknowledged is lost: every write accepted before the rollback is in
    # PostgreSQL, and every one of the run (every write made on PostgreSQL among them) is in
    # the rollback file.
    assert set(before) <= in_postgres
    assert in_rollback == set(accepted)
    # After each move, writes go to the new database only.
    assert not set(writer.accepted_since(after_switch)) & in_source
    assert after_rollback_started and not set(after_rollback_started) & in_postgres


class HeldWrite(threading.Thread):
    """One write sent while the app moves; its answer once it comes."""

    def __init__(self, base, token, content):
        super().__init__(daemon=True)
        self.base, self.token, self.content = base, token, content
        self.answer = None

    def run(self):
        self.answer = call(
            self.base,
            self.token,
            "POST",
            "/api/v1/journal/entries",
            {"content": self.content},
            request_id=self.content,
        )


@pytest.fixture
def moving(settings, tmp_path, state):
    """This process as the operator's command: the same files as the served app, and
    DATABASE_URL naming the test database (the app's target file will name it too)."""
    settings.MAINTENANCE_FLAG_PATH = tmp_path / "maintenance.flag"
    settings.DATABASE_TARGET_PATH = tmp_path / "database_target"
    settings.GUNICORN_PID_FILE = tmp_path / "gunicorn.pid"
    settings.DATABASE_TARGET = DatabaseTarget(
        pg_url_of_the_tests(), django_settings.SQLITE_PATH, "DATABASE_URL"
    )
    return settings


@pytest.fixture
def served_source(source, tmp_path):
    """The source with one user and change capture, ready to be served from
    ``tmp_path / "server"``; the user's access token."""
    fill(FILL, users=1)
    token = access_token(source)
    call_command("copy_from_sqlite", str(source), "--capture", "--no-progress")
    close_alias(FILL)
    (tmp_path / "server").mkdir()
    return token


def during(monkeypatch, name, before):
    """Run ``before()`` just before the move's last step ``name`` (dbcopy.switch)."""
    real = getattr(switch, name)

    def last_step(*args, **kwargs):
        before()
        return real(*args, **kwargs)

    monkeypatch.setattr(switch, name, last_step)


def test_a_write_held_by_a_move_lands_on_the_database_moved_to(
    source, served_source, tmp_path, state, moving, monkeypatch, sqlite_alias
):
    token = served_source
    rollback = tmp_path / "rollback.sqlite3"
    held = {}

    def send(base, content):
        held[content] = HeldWrite(base, token, content)
        held[content].start()
        wait_for_held(server, content)  # a new worker holds it: the move goes on

    with Server(
        tmp_path / "server", SQLITE_PATH=str(source), CUTOVER_HOLD_SECONDS="60", **state
    ) as server:
        during(monkeypatch, "final_replay", lambda: send(server.base, "held-forward"))
        call_command("copy_from_sqlite", str(source), "--cutover", "--switch", "--no-progress")
        held["held-forward"].join(60)
        during(monkeypatch, "final_replay_back", lambda: send(server.base, "held-back"))
        call_command("copy_to_sqlite", str(rollback), "--switch", "--no-progress")
        held["held-back"].join(60)

    assert held["held-forward"].answer[0] == 201
    assert held["held-back"].answer[0] == 201
    assert held_requests(server) == {"held-forward": "served", "held-back": "served"}
    contents = ["held-forward", "held-back"]
    assert contents_in(sqlite_alias("served", source), contents) == set()
    assert contents_in("default", contents) == {"held-forward"}
    assert contents_in(sqlite_alias("rollback", rollback), contents) == set(contents)


def test_a_request_held_past_the_bound_is_refused_with_maintenance(
    source, served_source, tmp_path, state, moving, monkeypatch, sqlite_alias
):
    token = served_source
    late = {}

    def held_too_long(base):
        late["write"] = HeldWrite(base, token, "too-late")
        late["write"].start()
        wait_for_held(server, "too-late", outcome="refused")

    with Server(
        tmp_path / "server", SQLITE_PATH=str(source), CUTOVER_HOLD_SECONDS="1", **state
    ) as server:
        during(monkeypatch, "final_replay", lambda: held_too_long(server.base))
        call_command("copy_from_sqlite", str(source), "--cutover", "--switch", "--no-progress")
        late["write"].join(60)
        after = call(server.base, token, "POST", "/api/v1/journal/entries", {"content": "after"})

    status, body = late["write"].answer
    assert (status, body["code"]) == (503, "maintenance")
    assert after[0] == 201  # the move went through; writes go on, on PostgreSQL
    assert contents_in("default", ["too-late", "after"]) == {"after"}
    assert contents_in(sqlite_alias("served", source), ["too-late", "after"]) == set()


def test_a_move_stopped_by_sigterm_moves_back_and_leaves_nothing_behind(
    source, served_source, tmp_path, state, moving, sqlite_alias
):
    token = served_source
    rollback = tmp_path / "rollback.sqlite3"
    with Server(tmp_path / "server", SQLITE_PATH=str(source), **state) as server:
        call_command("copy_from_sqlite", str(source), "--cutover", "--switch", "--no-progress")
        # The way back, as an operator's service manager would stop it: SIGTERM mid-move.
        back = subprocess.Popen(
            [sys.executable, "manage.py", "copy_to_sqlite", str(rollback), "--switch"],
            cwd=ROOT,
            env={
                "PATH": "/usr/bin:/bin",
                "ENV_FILE": os.devnull,
                "PYTHONUNBUFFERED": "1",
                **state,
                "DEBUG": "1",
                "SQLITE_PATH": str(source),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert back.stdout is not None
        for line in back.stdout:
            if line.startswith("holding requests"):
                back.send_signal(signal.SIGTERM)
                break
        _, err = back.communicate(timeout=120)
        after = call(server.base, token, "POST", "/api/v1/journal/entries", {"content": "after"})

    assert back.returncode == 1
    assert err.strip().splitlines()[-1] == (
        "CommandError: stopped by SIGTERM; the app serves what it served before"
    )
    assert "Traceback" not in err
    # Requests are served on PostgreSQL again, none held; nothing of the move is left.
    assert after[0] == 201
    assert contents_in("default", ["after"]) == {"after"}
    assert not (tmp_path / "maintenance.flag.hold").exists()
    assert not rollback.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'dbcopy%%'")
        assert cursor.fetchone() == (0,)


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


URL_SET = (
    "runs with DATABASE_URL set, which wins over the database target file, so its workers "
    "would stay where they are: serve with DATABASE_URL unset (`make serve`), or move the app "
    "by hand"
)
ANOTHER_FLAG = (
    "reads the maintenance flag file {flag}, this command writes {tmp}/maintenance.flag: give "
    "both the same MAINTENANCE_FLAG_PATH"
)
# How the app is served, then why the cutover and why the way back are refused, for each way
# the running app would not follow a move; {names} are filled in by the test.
FOLLOWER_CASES = {
    # gunicorn gives the variable to the workers only: the master's environment lacks it.
    "database-url-given-by-gunicorn-env": (
        {"gunicorn_args": ["--env", "DATABASE_URL={pg_url}"]},
        URL_SET,
        URL_SET,
    ),
    "another-target-file": (
        {"DATABASE_TARGET_PATH": "{tmp}/elsewhere"},
        "reads the database target file {tmp}/elsewhere, this command writes "
        "{tmp}/database_target: give both the same DATABASE_TARGET_PATH",
        "reads the database target file {tmp}/elsewhere, this command writes "
        "{tmp}/database_target: give both the same DATABASE_TARGET_PATH",
    ),
    "another-flag-file": (
        {"MAINTENANCE_FLAG_PATH": "{tmp}/other.flag"},
        ANOTHER_FLAG.replace("{flag}", "{tmp}/other.flag"),
        ANOTHER_FLAG.replace("{flag}", "{tmp}/other.flag"),
    ),
    "another-sqlite-file": (
        {"SQLITE_PATH": "{tmp}/other.sqlite3"},
        "serves the SQLite file {tmp}/other.sqlite3, this command moves it from the SQLite "
        "file {source}",
        "serves the SQLite file {tmp}/other.sqlite3, this command moves it from {pg}",
    ),
    # A relative path is the project's, wherever gunicorn was started: not the file next to
    # where it runs, which is what the operator's command names here.
    "relative-flag-path-from-another-directory": (
        {"cwd": "{tmp}", "MAINTENANCE_FLAG_PATH": "maintenance.flag"},
        ANOTHER_FLAG.replace("{flag}", "{root}/maintenance.flag"),
        ANOTHER_FLAG.replace("{flag}", "{root}/maintenance.flag"),
    ),
    "another-postgresql-database": (
        {"target": "postgres://postgres@127.0.0.1:5432/another_database"},
        "serves the postgresql database another_database at 127.0.0.1:5432, this command moves "
        "it from the SQLite file {source}",
        "serves the postgresql database another_database at 127.0.0.1:5432, this command moves "
        "it from {pg}",
    ),
}


@pytest.mark.parametrize("case", list(FOLLOWER_CASES))
def test_a_move_is_refused_before_anything_pauses_when_a_worker_would_not_follow(
    source, tmp_path, state, moving, case
):
    # Any of these and the reload would leave a worker where it is (or looking at another
    # flag), and writes made there after the last replay would be lost.
    served_as, cutover_reason, back_reason = FOLLOWER_CASES[case]
    fill(FILL, users=1)
    call_command("copy_from_sqlite", str(source), "--capture", "--no-progress")
    added = JournalEntry.objects.count()
    (tmp_path / "server").mkdir()
    cfg = connection.settings_dict
    names = {
        "tmp": tmp_path,
        "root": django_settings.BASE_DIR,
        "source": source,
        "pg_url": pg_url_of_the_tests(),
        "pg": f"the postgresql database {cfg['NAME']} at {cfg['HOST']}:{cfg['PORT']}",
    }
    served_as = {
        k: [a.format(**names) for a in v] if isinstance(v, list) else v.format(**names)
        for k, v in served_as.items()
    }
    if "target" in served_as:
        (tmp_path / "database_target").write_text(served_as.pop("target") + "\n")
    target_before = (tmp_path / "database_target").exists()
    served = {**state, "SQLITE_PATH": str(source), "GUNICORN_WORKERS": "2", **served_as}
    served["cwd"] = Path(served.get("cwd", django_settings.BASE_DIR))

    with Server(tmp_path / "server", **served) as server:
        master = server.process.pid
        with pytest.raises(CommandError) as cutover:
            call_command("copy_from_sqlite", str(source), "--cutover", "--switch")
        with pytest.raises(CommandError) as back:
            call_command("copy_to_sqlite", str(tmp_path / "back.sqlite3"), "--switch")

    prefix = f"--switch: gunicorn (pid {master}) "
    assert str(cutover.value) == prefix + cutover_reason.format(**names)
    assert str(back.value) == prefix + back_reason.format(**names)
    # Nothing paused, held, moved or copied.
    assert not (tmp_path / "maintenance.flag").exists()
    assert not (tmp_path / "maintenance.flag.hold").exists()
    assert (tmp_path / "database_target").exists() == target_before
    assert not (tmp_path / "back.sqlite3").exists()
    assert JournalEntry.objects.count() == added  # the capture copy only, nothing caught up


def answer_once_reloaded(server, token, content, expected, timeout=60):
    """POST ``content`` until the answer's status is ``expected`` (gunicorn's reload done)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = call(server.base, token, "POST", "/api/v1/journal/entries", {"content": content})
        if answer[0] == expected or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def test_the_runbooks_steps_undo_a_way_back_killed_with_sigkill(
    source, served_source, tmp_path, state, moving
):
    """What a way back killed with SIGKILL after gunicorn's new workers started leaves (the
    target file and the hold naming the new file, new workers holding every request,
    PostgreSQL's triggers), then docs/runbook.md's steps: the app serves PostgreSQL again."""
    token = served_source
    rollback = tmp_path / "rollback.sqlite3"
    target = tmp_path / "database_target"
    with Server(
        tmp_path / "server", SQLITE_PATH=str(source), CUTOVER_HOLD_SECONDS="1", **state
    ) as server:
        call_command("copy_from_sqlite", str(source), "--cutover", "--switch", "--no-progress")
        served_before = target.read_text()
        master = int((tmp_path / "gunicorn.pid").read_text())
        create_rollback_file(rollback)
        pg_capture.install(connection, copied_tables())
        write_target(target, sqlite_url(rollback))
        maintenance.hold_requests({"vendor": "sqlite", "name": str(rollback.resolve())})
        os.kill(master, signal.SIGHUP)
        # (Writes sent before the reload took effect are served on PostgreSQL, as they should.)
        held = answer_once_reloaded(server, token, "until held", 503)
        status = StringIO()
        call_command("maintenance", "status", stdout=status)

        # The runbook's steps: the target file as it was, a reload, the hold and the
        # triggers removed.
        target.write_text(served_before)
        os.kill(master, signal.SIGHUP)
        after = answer_once_reloaded(server, token, "after", 201)
        maintenance.hold_path().unlink()
        call_command("copy_to_sqlite", "--stop-capture", stdout=StringIO())

    assert (held[0], held[1]["code"]) == (503, "maintenance")
    assert status.getvalue().splitlines()[1].startswith("requests are held for a move since ")
    assert after[0] == 201
    assert contents_in("default", ["after"]) == {"after"}
    assert not pg_capture.installed(connection)
