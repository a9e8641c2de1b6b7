import math

import pytest
from rest_framework.test import APIClient

from ops.throttling import ClientAddressThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_instant(monkeypatch):
    # Every request of a test at one instant, 30 s into a minute: a window boundary falling
    # inside a test's burst would otherwise let one request more through now and then.
    monkeypatch.setattr(ClientAddressThrottle, "timer", lambda self: 1_800_000_030.0)


LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
WEBHOOK = "/api/v1/subscriptions/webhook"


def post_many(api, path, times, **extra):
    return [api.post(path, {}, format="json", **extra).status_code for _ in range(times)]


@pytest.mark.parametrize(("path", "rate"), [(LOGIN, 20), (REFRESH, 60), (WEBHOOK, 600)])
def test_a_client_over_the_default_rate_gets_429_with_retry_after(api, path, rate):
    statuses = post_many(api, path, rate)

    response = api.post(path, {}, format="json")

    assert 429 not in statuses
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert "Request was throttled" in response.json()["detail"]
    # The sliding window frees the next slot at most a minute and 1/rate of one from now.
    assert 0 < int(response["Retry-After"]) <= math.ceil(60 * (1 + 1 / rate))


def test_the_rate_is_counted_per_client_address(api):
    post_many(api, LOGIN, 20, REMOTE_ADDR="203.0.113.7")

    same = api.post(LOGIN, {}, format="json", REMOTE_ADDR="203.0.113.7")
    other = api.post(LOGIN, {}, format="json", REMOTE_ADDR="203.0.113.8")

    assert same.status_code == 429
    assert other.status_code == 400


def test_a_forged_forwarded_for_header_does_not_escape_the_limit(api):
    for n in range(20):
        api.post(LOGIN, {}, format="json", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    response = api.post(LOGIN, {}, format="json", HTTP_X_FORWARDED_FOR="198.51.100.99")

    assert response.status_code == 429


def test_behind_a_proxy_the_forwarded_client_address_is_counted(api, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    post_many(api, LOGIN, 20, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)

    same = api.post(LOGIN, {}, format="json", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    other = api.post(LOGIN, {}, format="json", HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy)

    assert same.status_code == 429
    assert other.status_code == 400


def test_a_changed_rate_applies_at_once(api, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "refresh": "2/min"}

    statuses = post_many(api, REFRESH, 3)

    assert statuses == [400, 400, 429]


def test_endpoints_for_signed_in_users_are_not_throttled(auth_api):
    statuses = {auth_api.get("/api/v1/me").status_code for _ in range(30)}

    assert statuses == {200}


def test_a_rate_of_zero_refuses_with_retry_after(api, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login": "0/min"}

    response = api.post(LOGIN, {}, format="json")

    assert response.status_code == 429
    assert response["Retry-After"] == "60"


def test_ipv6_clients_are_counted_per_64(api):
    statuses = post_many(api, LOGIN, 20, REMOTE_ADDR="2001:db8:aa:bb::1")

    same_64 = api.post(LOGIN, {}, format="json", REMOTE_ADDR="2001:db8:aa:bb:1234:5678:9:a")
    other_64 = api.post(LOGIN, {}, format="json", REMOTE_ADDR="2001:db8:aa:bc::1")

    assert 429 not in statuses
    assert same_64.status_code == 429
    assert other_64.status_code == 400


def test_an_ipv4_mapped_address_counts_as_its_ipv4_address(api):
    post_many(api, LOGIN, 20, REMOTE_ADDR="203.0.113.9")

    assert api.post(LOGIN, {}, format="json", REMOTE_ADDR="::ffff:203.0.113.9").status_code == 429


ENTRIES = "/api/v1/journal/entries"


def test_journal_writes_are_limited_per_user_with_retry_after(auth_api, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "write": "3/min"}
    created = [auth_api.post(ENTRIES, {"content": f"n{i}"}, format="json") for i in range(3)]
    entry_id = created[0].json()["id"]

    over = [
        auth_api.post(ENTRIES, {"content": "more"}, format="json"),
        auth_api.patch(f"{ENTRIES}/{entry_id}", {"content": "x"}, format="json"),
        auth_api.delete(f"{ENTRIES}/{entry_id}"),
    ]
    reads = [auth_api.get(ENTRIES), auth_api.get(f"{ENTRIES}/{entry_id}")]

    assert [r.status_code for r in created] == [201, 201, 201]
    assert [r.status_code for r in over] == [429, 429, 429]
    assert over[0].json()["code"] == "throttled"
    assert int(over[0]["Retry-After"]) >= 1
    assert [r.status_code for r in reads] == [200, 200]
    assert auth_api.get(ENTRIES).json()["count"] == 3  # nothing refused was written


def test_one_users_writes_do_not_use_another_users_rate(auth_api, other_user, login, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "write": "2/min"}
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {login(other_user).access}")
    mine = [auth_api.post(ENTRIES, {"content": "a"}, format="json").status_code for _ in range(3)]

    theirs = other.post(ENTRIES, {"content": "b"}, format="json")

    assert mine == [201, 201, 429]
    assert theirs.status_code == 201
