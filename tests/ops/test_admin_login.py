"""The admin's login page refuses sign-in attempts past its limits (ops/admin_login.py)."""

import pytest
from django.contrib import admin
from django.contrib.auth.signals import user_login_failed
from django.urls import resolve, reverse

from accounts.models import User
from ops import admin_login
from ops.admin_login import (
    ATTEMPTS_PER_ADDRESS,
    ATTEMPTS_PER_USERNAME_AND_ADDRESS,
    USERNAME_ALERT_CEILING,
    WINDOW_SECONDS,
)

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "a-long-Staff-passphrase-42"
OFFICE, HOME, CAFE = "203.0.113.7", "198.51.100.20", "192.0.2.33"
START = 1_800_000_030.0  # 30 s into a window of the counts


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Every attempt at one instant unless a test moves the clock on: a window boundary
    falling inside a burst would otherwise weigh the counts now and then."""
    now = [START]
    monkeypatch.setattr(admin_login.AdminSignInThrottle, "timer", lambda self: now[0])
    return now


@pytest.fixture(autouse=True)
def staff(db, settings):
    # A fast hasher: these tests check passwords dozens of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User.objects.create_user("morgan", "morgan@example.com", PASSWORD, is_staff=True)
    User.objects.create_user("riley", "riley@example.com", PASSWORD, is_staff=True)


def sign_in(client, username, password=PASSWORD, address=OFFICE):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )


def fail(client, times, username="morgan", address=OFFICE):
    return [sign_in(client, username, "wrong", address).status_code for _ in range(times)]


def signed_in(client):
    return "_auth_user_id" in client.session


def test_the_right_password_after_five_wrong_ones_is_refused_with_429(client):
    assert (
        fail(client, ATTEMPTS_PER_USERNAME_AND_ADDRESS) == [200] * ATTEMPTS_PER_USERNAME_AND_ADDRESS
    )

    response = sign_in(client, "morgan")

    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert 0 < int(response["Retry-After"]) <= 2 * WINDOW_SECONDS
    assert not signed_in(client)


def test_the_refusal_shows_the_login_form_again(client):
    fail(client, ATTEMPTS_PER_USERNAME_AND_ADDRESS)

    html = sign_in(client, "morgan").content.decode()

    assert 'name="password"' in html
    assert "Try again in 18 minutes." in html


def test_a_refused_attempt_does_not_check_the_password(client):
    fail(client, ATTEMPTS_PER_USERNAME_AND_ADDRESS)
    checked = []
    user_login_failed.connect(lambda **kwargs: checked.append(kwargs), weak=False, dispatch_uid="t")
    try:
        response = sign_in(client, "morgan", "wrong again")
    finally:
        user_login_failed.disconnect(dispatch_uid="t")

    assert response.status_code == 429
    assert checked == []


def test_failures_from_one_address_do_not_lock_the_username_out_elsewhere(client):
    fail(client, ATTEMPTS_PER_USERNAME_AND_ADDRESS, address=CAFE)

    assert sign_in(client, "morgan", address=CAFE).status_code == 429
    response = sign_in(client, "morgan", address=OFFICE)

    assert response.status_code == 302
    assert signed_in(client)


def metric(client, name) -> float:
    text = client.get("/metrics").content.decode()
    line = next(x for x in text.splitlines() if x.startswith(f"{name} "))
    return float(line.split()[1])


def test_one_username_guessed_from_many_addresses_is_logged_and_counted_not_locked_out(
    client, caplog
):
    before = metric(client, "journal_admin_login_username_ceiling_total")
    addresses = [f"198.18.{n // 250}.{n % 250 + 1}" for n in range(USERNAME_ALERT_CEILING + 3)]
    statuses = [sign_in(client, "morgan", "wrong", address=a).status_code for a in addresses]

    response = sign_in(client, "morgan", address="192.0.2.200")

    assert set(statuses) == {200}
    assert response.status_code == 302
    assert metric(client, "journal_admin_login_username_ceiling_total") - before == 4
    warnings = [
        r for r in caplog.records if "past" in r.getMessage() and r.name == "ops.admin_login"
    ]
    assert len(warnings) == 4
    assert "'morgan'" in warnings[0].getMessage()


def test_another_username_from_another_address_still_signs_in(client):
    fail(client, ATTEMPTS_PER_USERNAME_AND_ADDRESS, username="morgan", address=OFFICE)

    response = sign_in(client, "riley", address=HOME)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert signed_in(client)


def test_failures_from_one_address_past_its_limit_refuse_every_username_from_it(client):
    for n in range(ATTEMPTS_PER_ADDRESS):
        sign_in(client, f"guess-{n}", "wrong", address=CAFE)

    refused = sign_in(client, "riley", address=CAFE)
    elsewhere = sign_in(client, "riley", address=HOME)

    assert refused.status_code == 429
    assert elsewhere.status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_limit(client):
    for n in range(ATTEMPTS_PER_ADDRESS):
        client.post(
            LOGIN,
            {"username": f"guess-{n}", "password": "wrong"},
            REMOTE_ADDR=CAFE,
            HTTP_X_FORWARDED_FOR=f"10.9.8.{n}",
        )

    response = client.post(
        LOGIN,
        {"username": "riley", "password": PASSWORD},
        REMOTE_ADDR=CAFE,
        HTTP_X_FORWARDED_FOR="10.9.8.99",
    )

    assert response.status_code == 429


def test_the_login_page_still_opens_while_attempts_are_refused(client):
    fail(client, ATTEMPTS_PER_USERNAME_AND_ADDRESS)

    response = client.get(LOGIN, REMOTE_ADDR=OFFICE)

    assert response.status_code == 200
    assert "Too many" not in response.content.decode()


def test_sign_in_works_again_once_the_window_has_passed(client, clock):
    fail(client, ATTEMPTS_PER_USERNAME_AND_ADDRESS)
    waited = int(sign_in(client, "morgan")["Retry-After"])

    clock[0] += waited

    assert sign_in(client, "morgan").status_code == 302


def test_refused_attempts_do_not_lengthen_the_wait(client, clock):
    fail(client, ATTEMPTS_PER_USERNAME_AND_ADDRESS)
    waited = int(sign_in(client, "morgan")["Retry-After"])
    fail(client, 20)

    clock[0] += waited

    assert sign_in(client, "morgan").status_code == 302


def test_staff_sign_in_when_the_counts_cannot_be_read_and_the_limit_still_holds(
    client, settings, tmp_path
):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.CACHE_DIR = str(blocker / "cache")  # the counts file cannot be made

    response = sign_in(client, "morgan")
    assert response.status_code == 302
    assert signed_in(client)

    client.logout()
    wrong = [sign_in(client, "morgan", password="wrong").status_code for _ in range(5)]
    assert wrong == [200, 200, 200, 200, 429]  # the process counts on its own


def test_ipv6_addresses_of_one_64_share_a_limit(client):
    fail(client, ATTEMPTS_PER_USERNAME_AND_ADDRESS - 1, address="2001:db8:1:2::10")

    neighbour = sign_in(client, "morgan", "wrong", address="2001:db8:1:2:ffff::1")
    next_door = sign_in(client, "morgan", address="2001:db8:1:3::10")

    assert neighbour.status_code == 200  # the fifth attempt of the /64
    assert sign_in(client, "morgan", address="2001:db8:1:2::99").status_code == 429
    assert next_door.status_code == 302


def test_the_admin_is_the_projects_own_site_with_the_throttled_login():
    assert isinstance(admin.site, admin_login.ThrottledAdminSite)
    login = resolve(reverse("admin:login")).func
    assert login.__func__ is admin_login.ThrottledAdminSite.login
