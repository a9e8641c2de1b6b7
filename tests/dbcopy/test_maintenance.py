from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from journal.models import JournalEntry
from ops import maintenance

pytestmark = pytest.mark.django_db


@pytest.fixture
def flag(settings, tmp_path):
    settings.MAINTENANCE_FLAG_PATH = tmp_path / "sub" / "maintenance.flag"
    return settings.MAINTENANCE_FLAG_PATH


def run(state, *args):
    out = StringIO()
    call_command("maintenance", state, *args, stdout=out)
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
    assert write["Retry-After"] == "1"  # on for under a second, no expected end given
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


def test_retry_after_is_the_time_left_when_the_operator_says_how_long(flag, auth_api):
    status = run("on", "--for", "600")

    write = auth_api.post("/api/v1/journal/entries", {"content": "x"}, format="json")

    assert "expected until" in status
    assert 590 <= int(write["Retry-After"]) <= 600


def test_retry_after_grows_with_how_long_maintenance_has_lasted(flag, auth_api):
    flag.parent.mkdir(parents=True)
    flag.write_text((datetime.now(UTC) - timedelta(seconds=90)).isoformat() + "\n")

    write = auth_api.post("/api/v1/journal/entries", {"content": "x"}, format="json")

    assert 90 <= int(write["Retry-After"]) <= 100


def test_maintenance_for_needs_on_and_a_positive_number(flag):
    with pytest.raises(CommandError, match=r"^--for goes with `on` and a number of seconds"):
        call_command("maintenance", "off", "--for", "60")
    with pytest.raises(CommandError, match=r"^--for goes with `on` and a number of seconds"):
        call_command("maintenance", "on", "--for", "0")
    assert not flag.exists()


def test_a_hold_naming_another_database_holds_nothing_here(flag, settings, auth_api):
    # The old workers of a move serve on, unheld, while the new ones hold.
    settings.CUTOVER_HOLD_SECONDS = 0
    maintenance.hold_requests({"vendor": "postgresql", "name": "elsewhere"})

    response = auth_api.post("/api/v1/journal/entries", {"content": "x"}, format="json")

    assert response.status_code == 201


def test_a_request_held_past_the_bound_is_refused_here(flag, settings, auth_api):
    settings.CUTOVER_HOLD_SECONDS = 0
    maintenance.hold_requests(maintenance.served_database())

    write = auth_api.post("/api/v1/journal/entries", {"content": "x"}, format="json")
    read = auth_api.get("/api/v1/journal/entries")
    health = auth_api.get("/healthz")
    maintenance.release_requests()
    after = auth_api.post("/api/v1/journal/entries", {"content": "y"}, format="json")

    assert (write.status_code, write.json()["code"]) == (503, "maintenance")
    assert (read.status_code, read.json()["code"]) == (503, "maintenance")
    assert health.status_code == 200
    assert after.status_code == 201
    assert list(JournalEntry.objects.values_list("content", flat=True)) == ["y"]


def test_status_says_when_a_move_holds_requests_and_off_leaves_the_hold(flag):
    """A hold outlives a move killed with SIGKILL: the operator sees it, and turning
    maintenance off does not lift it (only the move knows whether its last step ran)."""
    maintenance.hold_requests(maintenance.served_database())

    status = run("status").splitlines()
    off = run("off").splitlines()

    assert status[0] == "maintenance is off"
    assert status[1].startswith("requests are held for a move since ")
    assert str(maintenance.hold_path()) in status[1]
    assert off == status
    assert maintenance.hold_path().exists()
    maintenance.release_requests()
    assert run("status") == "maintenance is off"
