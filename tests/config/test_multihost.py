"""Several hosts in DATABASE_URL (libpq's way to follow a failover): how the URL is read, and
the app on the real server behind a host list, through an outage and back without a restart."""

import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress

import pytest
from django.db import connection

from accounts.services import upsert_user
from config.database import RECONNECT_GRACE_SECONDS, postgres_config, replica_configs
from tests.config.test_production_settings import manage, production_env
from tests.processes import ROOT
from tests.resilience.http import call
from tests.resilience.server import app_server, free_port
from tokens.services import start_session

READ_WRITE = "target_session_attrs=read-write"


def config(url, **kwargs):
    return postgres_config(url, pool_max=2, statement_timeout_ms=1000, **kwargs)


def test_host_port_pairs_become_the_lists_libpq_takes():
    cfg = config(f"postgres://app:s%40cret@db-a:5432,db-b:5433/journal?{READ_WRITE}")

    assert (cfg["HOST"], cfg["PORT"]) == ("db-a,db-b", "5432,5433")
    assert (cfg["USER"], cfg["PASSWORD"], cfg["NAME"]) == ("app", "s@cret", "journal")
    assert cfg["OPTIONS"]["target_session_attrs"] == "read-write"
    # Everything else a single-host URL gets is still there.
    assert cfg["OPTIONS"]["options"] == "-c statement_timeout=1000"
    assert cfg["OPTIONS"]["pool"]["max_size"] == 2
    assert cfg["CONN_HEALTH_CHECKS"] is True


def test_ipv6_addresses_and_hosts_without_a_port_keep_their_place_in_the_lists():
    cfg = config(f"postgresql://app@[::1]:5432,db-b,[fd00::2]:6432/journal?{READ_WRITE}")

    assert cfg["HOST"] == "::1,db-b,fd00::2"
    # An empty entry is libpq's default port for that host.
    assert cfg["PORT"] == "5432,,6432"


def test_a_single_host_url_is_read_as_before():
    cfg = config("postgres://app@db:5432/journal?sslmode=require")

    assert (cfg["HOST"], cfg["PORT"]) == ("db", 5432)
    assert "target_session_attrs" not in cfg["OPTIONS"]


def test_a_lost_connection_is_retried_about_as_long_as_a_request_waits_for_one():
    cfg = config(f"postgres://app@a:1,b:2/journal?{READ_WRITE}", pool_timeout=3)

    assert cfg["OPTIONS"]["pool"]["timeout"] == 3
    # Not psycopg_pool's 300 s, whose growing delay would find a new primary minutes late.
    assert cfg["OPTIONS"]["pool"]["reconnect_timeout"] == 3 + RECONNECT_GRACE_SECONDS


def test_a_replica_may_list_several_hosts_without_asking_for_writes():
    replicas = replica_configs(
        ["postgres://ro@standby-a:5432,standby-b:5433/journal"], pool_max=2, statement_timeout_ms=1
    )

    assert (replicas["replica_1"]["HOST"], replicas["replica_1"]["PORT"]) == (
        "standby-a,standby-b",
        "5432,5433",
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (
            "postgres://app@a:5432,b:5433/journal",
            "DATABASE_URL lists several hosts: add ?target_session_attrs=read-write",
        ),
        (
            "postgres://app@a:5432,b:5433/journal?target_session_attrs=standby",
            "DATABASE_URL lists several hosts: add ?target_session_attrs=read-write",
        ),
        (
            "postgres://app@a,b/journal?target_session_attrs=writable",
            "target_session_attrs must be one of any, read-write",
        ),
        (f"postgres://app@a:5432,,b:5433/journal?{READ_WRITE}", "host 2 of 'a:5432,,b:5433'"),
        (f"postgres://app@a:5432,b:x/journal?{READ_WRITE}", "has a bad port 'x'"),
        (f"postgres://app@a:5432,b:70000/journal?{READ_WRITE}", "has a bad port '70000'"),
        (f"postgres://app@a:5432,b:5433/?{READ_WRITE}", "DATABASE_URL must name a database"),
        (f"mysql://app@a:3306,b:3306/journal?{READ_WRITE}", "must be a postgres:// or"),
    ],
)
def test_bad_host_lists_stop_start_up_with_one_line(tmp_path, url, reason):
    result = manage(tmp_path, "check", **production_env(DATABASE_URL=url))

    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert reason in result.stderr


# On the real server: its first host refuses connections, then the real server (or a proxy to
# it that the test stops and starts again).


class TcpProxy:
    """Forwards 127.0.0.1:port to the database server; ``stop()`` refuses new connections and
    cuts the open ones, as a dead primary would, and ``start()`` serves on the same port again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        # shutdown() wakes the thread blocked in accept(); close() alone would not.
        listener = self.listener
        assert listener is not None, "stop() before start()"
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        with self.lock:
            for sock in self.sockets:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by stop()
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def server_address() -> tuple[str, int]:
    """The server the test database is on (the one libpq chose, if DATABASE_URL lists several)."""
    connection.ensure_connection()
    info = connection.connection.info
    return info.host, info.port


def url_through(*hosts: tuple[str, int]) -> str:
    s = connection.settings_dict
    listed = ",".join(f"{host}:{port}" for host, port in hosts)
    return f"postgres://{s['USER']}@{listed}/{s['NAME']}?{READ_WRITE}"


@pytest.fixture
def token(db):
    user = upsert_user(provider="google", provider_subject="failover")
    return start_session(user=user).access


def post_entry(base_url, token, content="hello"):
    return call(base_url, "POST", "/api/v1/journal/entries", token=token, body={"content": content})


@contextmanager
def proxy_to_server():
    proxy = TcpProxy(server_address())
    proxy.start()
    try:
        yield proxy
    finally:
        with suppress(OSError):
            proxy.stop()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_app_skips_a_host_that_refuses_and_serves_from_the_next(token):
    closed = ("127.0.0.1", free_port())
    with app_server(DATABASE_URL=url_through(closed, server_address())) as base_url:
        ready = call(base_url, "GET", "/readyz")
        write = post_entry(base_url, token)
        read = call(base_url, "GET", f"/api/v1/journal/entries/{write[1]['id']}", token=token)

    assert ready[0] == 200
    assert write[0] == 201
    assert (read[0], read[1]["content"]) == (200, "hello")


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_while_no_host_accepts_requests_get_503_and_afterwards_succeed_without_a_restart(token):
    closed = ("127.0.0.1", free_port())
    with proxy_to_server() as proxy:
        url = url_through(closed, ("127.0.0.1", proxy.port))
        with app_server(DATABASE_URL=url, DB_POOL_TIMEOUT_SECONDS="1") as base_url:
            before = post_entry(base_url, token, "before")
            proxy.stop()
            during = [post_entry(base_url, token, f"during {n}") for n in range(3)]
            not_ready = call(base_url, "GET", "/readyz")
            proxy.start()
            # The pool finds the server again by itself: the same process, no restart.
            deadline = time.monotonic() + 30
            after = post_entry(base_url, token, "after")
            waited = [after]
            while after[0] != 201 and time.monotonic() < deadline:
                time.sleep(0.2)
                after = post_entry(base_url, token, "after")
                waited.append(after)
            ready = call(base_url, "GET", "/readyz")

    assert before[0] == 201
    for status, body, headers in during + waited[:-1]:
        assert (status, body["code"]) == (503, "database_unavailable")
        assert int(headers["Retry-After"]) > 0
    assert (not_ready[0], not_ready[1]["code"]) == (503, "database_unavailable")
    assert after[0] == 201
    assert ready[0] == 200


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_pg_reachable_follows_the_host_list_like_the_app():
    closed = ("127.0.0.1", free_port())

    def reachable(*hosts):
        return subprocess.run(
            [sys.executable, "scripts/pg_reachable.py", url_through(*hosts)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )

    found = reachable(closed, server_address())
    lost = reachable(closed, ("127.0.0.1", free_port()))

    assert found.returncode == 0, found.stderr
    assert lost.returncode == 1
    assert lost.stderr.startswith("PostgreSQL unreachable:")
    assert len(lost.stderr.strip().splitlines()) == 1
