from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from journal.models import JournalEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def flag(settings, tmp_path):
    settings.MAINTENANCE_FLAG_PATH = tmp_path / "sub" / "maintenance.flag"
    return settings.MAINTENANCE_FLAG_PATH


def run(state):
    out = StringIO()
    call_command("maintenance", state, stdout=out)
    return out.getvalue().strip()


def test_maintenance_makes_writes_503_and_keeps_reads(flag, auth_api):
    assert run("on").startswith("maintenance is on (since ")

    write = auth_api.post("/api/v1/journal/entries", {"content": "x"}, format="json")
    delete = auth_api.delete("/api/v1/me")
    read = auth_api.get("/api/v1/journal/entries")

    assert write.status_code == 503
    assert write.json() == {
        "detail": "The service is read-only for maintenance; try again shortly.",
        "code": "maintenance",
    }
    assert write["Retry-After"] == "30"
    assert delete.status_code == 503
    assert read.status_code == 200
    assert not JournalEntry.objects.exists()


def test_maintenance_off_lets_writes_through_again(flag, auth_api):
    run("on")
    assert run("off") == "maintenance is off"

    response = auth_api.post("/api/v1/journal/entries", {"content": "x"}, format="json")

    assert response.status_code == 201
    assert not flag.exists()


def test_maintenance_status_and_repeated_switches(flag):
    assert run("status") == "maintenance is off"
    run("on")
    since = run("status")
    run("on")
    assert run("status") == since  # turning it on twice keeps the first time
    run("off")
    run("off")
    assert run("status") == "maintenance is off"


def test_a_flag_left_at_the_default_path_does_not_stop_the_suites_writes(auth_api):
    left_by_an_operator = django_settings.BASE_DIR / "data" / "maintenance.flag"
    existed = left_by_an_operator.exists()
    left_by_an_operator.parent.mkdir(exist_ok=True)
    left_by_an_operator.touch()
    try:
        response = auth_api.post("/api/v1/journal/entries", {"content": "hi"}, format="json")
    finally:
        if not existed:
            left_by_an_operator.unlink()

    assert response.status_code == 201
