"""The production server: gunicorn with config/gunicorn.conf.py, two workers, DEBUG off."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ops.gunicorn_control import published_dir, reload_workers, replace_workers, workers
from scripts.api_client import call

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(base, path, **headers):
    """(status, headers, body as bytes); no answer at all raises its OSError."""
    answer = call(base, "GET", path, headers=headers, timeout=10).raise_if_unanswered()
    return answer.status, answer.headers, answer.raw


class Server:
    def __init__(self, tmp_path, *, gunicorn_args=(), cwd=ROOT, **env):
        self.gunicorn_args, self.cwd = list(gunicorn_args), cwd
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stdout = tmp_path / "stdout.log"
        self.stderr = tmp_path / "stderr.log"
        self.env = {
            "PATH": os.environ["PATH"],
            "ENV_FILE": os.devnull,  # not this checkout's .env
            "DEBUG": "0",
            "SECRET_KEY": "k" * 50,
            "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": "2",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
            "STATIC_ROOT": str(tmp_path / "static"),
            **env,
        }

    def __enter__(self):
        # As `make serve` does: the admin's static files first (whitenoise serves them).
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env={k: v for k, v in self.env.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
            check=True,
            timeout=120,
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(ROOT / "config" / "gunicorn.conf.py"),
                *self.gunicorn_args,
                "config.wsgi",
            ],
            cwd=self.cwd,
            env=self.env,
            stdout=self.stdout.open("w"),
            stderr=self.stderr.open("w"),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if get(self.base, "/healthz")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"gunicorn did not start: {self.stderr.read_text()}")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=30)

    def access_log(self) -> list[dict]:
        time.sleep(0.2)  # the worker writes its access line after the response
        return [json.loads(line) for line in self.stdout.read_text().splitlines()]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("gunicorn")) as running:
        yield running


def test_requests_are_answered_with_the_request_id_and_logged_as_json(server):
    status, headers, body = get(
        server.base, "/healthz?access_token=s3cr3t-value", **{"X-Request-ID": "probe-1"}
    )

    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert headers["X-Request-ID"] == "probe-1"
    line = next(entry for entry in server.access_log() if entry["request_id"] == "probe-1")
    assert (line["logger"], line["method"], line["path"], line["status"]) == (
        "gunicorn.access",
        "GET",
        "/healthz",
        200,
    )
    assert line["query"] == "access_token=[redacted]"
    assert "s3cr3t-value" not in server.stdout.read_text()


def test_gunicorn_and_app_logs_are_json_lines(server):
    lines = server.stderr.read_text().splitlines()

    assert lines
    assert all(json.loads(line)["level"] for line in lines)


def test_readyz_is_503_json_while_migrations_are_pending(server):
    status, headers, body = get(server.base, "/readyz")

    assert status == 503
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["code"] == "migrations_pending"


def test_metrics_merge_the_workers_in_multiprocess_mode(server):
    for _ in range(6):
        get(server.base, "/api/v1/me")

    status, _, body = get(server.base, "/metrics")

    assert status == 200
    values = {}
    for line in body.decode().splitlines():
        if not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    assert values['django_http_responses_total_by_status_total{status="401"}'] >= 6
    assert values['django_db_execute_total{alias="default",vendor="sqlite"}'] > 0
    assert list(Path(server.env["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"))


def test_readyz_is_503_json_when_postgres_is_unreachable(tmp_path):
    unreachable = "postgres://postgres@127.0.0.1:1/journal"
    with Server(tmp_path, DATABASE_URL=unreachable, GUNICORN_WORKERS="1") as server:
        status, headers, body = get(server.base, "/readyz")

    assert status == 503
    assert headers["Content-Type"] == "application/json"
    answer = json.loads(body)
    assert answer == {"detail": "The database is unreachable.", "code": "database_unavailable"}
    # The reason, with the host and port, is for the operator: in the log, not the answer.
    assert "Connection refused" in server.stderr.read_text()


def post_on_every_worker(server, path, body, workers):
    """One request per worker: the connections are all opened first, and a sync worker that
    has taken one waits for its request, so each is taken by a different worker."""
    sockets = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(workers)]
    time.sleep(0.3)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    statuses = []
    for sock in sockets:
        with sock:
            sock.sendall(request)
            statuses.append(int(sock.makefile("rb").readline().split()[1]))
    return statuses


def test_throttle_counts_are_shared_by_the_workers(tmp_path):
    # No CACHE_DIR: the server sets one up for its workers, as in production.
    with Server(tmp_path, GUNICORN_WORKERS="3", THROTTLE_LOGIN_RATE="4/min") as server:
        statuses = []
        for _ in range(5):
            statuses += post_on_every_worker(server, "/api/v1/auth/login", b"{}", workers=3)

    # With a count per worker, each of the 3 would let 4 through.
    assert sorted(statuses) == [400] * 4 + [429] * 11


def test_no_control_socket_is_opened_unless_one_is_named(tmp_path):
    # gunicorn's default path for it is in the home directory of the user.
    home = tmp_path / "home"
    with Server(tmp_path, HOME=str(home), GUNICORN_WORKERS="1") as server:
        sockets = [path for path in home.rglob("*") if path.is_socket()]

    assert sockets == []
    assert "Control socket listening" not in server.stderr.read_text()


def test_the_control_socket_is_opened_where_gunicorn_control_socket_names(tmp_path):
    path = tmp_path / "gunicorn.ctl"
    with (
        Server(tmp_path, GUNICORN_CONTROL_SOCKET=str(path), GUNICORN_WORKERS="1"),
        socket.socket(socket.AF_UNIX) as client,
    ):
        client.connect(str(path))

    assert not path.exists()  # removed when the server stops


def test_a_reload_replaces_every_worker_and_the_new_ones_serve(tmp_path):
    with Server(tmp_path, GUNICORN_WORKERS="2") as server:
        master = server.process.pid
        old = workers(master)
        reload_workers(master)  # SIGHUP, then back once none of the old workers is left
        new = workers(master)
        status = get(server.base, "/healthz")[0]

    assert len(old) == 2 and len(new) == 2 and not old & new
    assert status == 200
    log = server.stderr.read_text()
    assert log.count("Worker exiting") >= 2
    assert "exited with code" not in log  # each old worker left with exit code 0


def test_a_replacement_keeps_as_many_workers_ready_as_before_and_leaves_only_new_ones(
    tmp_path,
):
    pid_file = tmp_path / "gunicorn.pid"
    with Server(tmp_path, GUNICORN_WORKERS="2", GUNICORN_PID_FILE=str(pid_file)) as server:
        master = server.process.pid
        old = workers(master)
        published = published_dir(pid_file)
        deadline = time.monotonic() + 30
        while not all((published / f"{pid}.json").exists() for pid in old):
            assert time.monotonic() < deadline, "the workers did not load the app"
            time.sleep(0.01)
        ready = []  # how many live workers had loaded the app, sampled throughout
        replacing = threading.Thread(target=replace_workers, args=(master, pid_file))
        replacing.start()
        while replacing.is_alive():
            live = workers(master)
            ready.append(sum((published / f"{pid}.json").exists() for pid in live))
            time.sleep(0.002)
        replacing.join()
        new = workers(master)
        status = get(server.base, "/healthz")[0]

    assert len(old) == 2 and len(new) == 2 and not old & new
    # A SIGHUP reload leaves no worker ready while the new ones load the app.
    assert len(ready) > 10 and min(ready) >= 2, ready
    assert status == 200
    assert "exited with code" not in server.stderr.read_text()


def test_a_configuration_error_stops_the_server_with_its_reason(tmp_path):
    env = Server(tmp_path).env
    del env["SECRET_KEY"]  # DEBUG is off
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "configuration error: SECRET_KEY is required when DEBUG is off (set it in the environment "
        "or in .env, which make run and make serve create; or DEBUG=1)"
    )
    assert "Traceback" not in result.stderr
    assert "Booting worker" not in result.stderr  # not one worker started into the error


@pytest.mark.parametrize(
    ("target", "listens"), [("run", "runserver 127.0.0.1:8123"), ("serve", "127.0.0.1:8123")]
)
def test_make_run_and_serve_listen_on_the_port_given(target, listens):
    # What make would run (-n), as an operator types it.
    planned = subprocess.run(
        ["make", "-n", target, "PORT=8123"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout

    assert listens in planned
    assert "8000" not in planned
