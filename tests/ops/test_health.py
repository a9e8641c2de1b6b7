import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.utils import load_backend


def test_healthz_answers_without_touching_the_database(api):
    # No django_db mark: any database access in the view would fail this test.
    response = api.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_200_when_the_database_answers_and_is_migrated(api):
    response = api.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


@pytest.mark.django_db
def test_readyz_is_503_while_a_migration_is_unapplied(api):
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = %s AND name = %s",
            ["journal", "0002_usage"],
        )

    response = api.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "migrations_pending"
    assert "journal.0002_usage" in body["detail"]


@pytest.fixture
def unreachable_default(monkeypatch, tmp_path):
    """``default`` pointing at a database that cannot be reached: a closed port for
    PostgreSQL, a file in a directory that does not exist for SQLite."""
    settings_dict = {**connections[DEFAULT_DB_ALIAS].settings_dict}
    if connection.vendor == "postgresql":
        settings_dict.update(HOST="127.0.0.1", PORT=1)
    else:
        settings_dict.update(NAME=str(tmp_path / "missing" / "db.sqlite3"))
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, DEFAULT_DB_ALIAS)
    monkeypatch.setattr(connections._connections, DEFAULT_DB_ALIAS, wrapper)
    yield
    wrapper.close()


def test_readyz_is_503_json_when_the_database_is_unreachable(
    api, unreachable_default, django_db_blocker
):
    with django_db_blocker.unblock():
        response = api.get("/readyz")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "database_unavailable"
    assert body == {"detail": "The database is unreachable.", "code": "database_unavailable"}


def test_readyz_names_no_host_or_port_and_logs_the_reason(
    api, unreachable_default, django_db_blocker, caplog
):
    with django_db_blocker.unblock():
        response = api.get("/readyz")

    assert response.status_code == 503
    assert "127.0.0.1" not in response.content.decode()
    assert "missing" not in response.content.decode()
    reasons = [r.getMessage() for r in caplog.records if r.name == "ops.health"]
    assert reasons and reasons[0].startswith("not ready, the database is unreachable: ")


@pytest.mark.django_db
def test_readyz_reads_the_migration_files_once_per_process(api, monkeypatch):
    from django.db.migrations import loader

    api.get("/readyz")  # the graph of this process, if no probe loaded it yet
    loads = []
    original = loader.MigrationLoader.load_disk
    monkeypatch.setattr(
        loader.MigrationLoader,
        "load_disk",
        lambda self: loads.append(1) or original(self),
    )

    answers = [api.get("/readyz").status_code for _ in range(3)]

    assert answers == [200, 200, 200]
    assert loads == []


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints_refuse_other_methods_with_json(api, path):
    response = api.post(path)

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
