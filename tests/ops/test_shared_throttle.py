"""REDIS_URL: app hosts that share one Redis share one limit; an unreachable Redis still
limits, per process."""

import pytest

from scripts.api_client import call
from tests.ops.test_serving import Server

LOGIN = "/api/v1/auth/login"


def post_login(server) -> int:
    return call(server.base, "POST", LOGIN, body={}, timeout=10).raise_if_unanswered().status


def test_two_app_hosts_on_one_redis_share_the_limit(tmp_path, redis_url, redis_prefix):
    shared = {
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": redis_prefix,
        "THROTTLE_LOGIN_RATE": "3/min",
        "GUNICORN_WORKERS": "1",
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with Server(tmp_path / "a", **shared) as first, Server(tmp_path / "b", **shared) as second:
        used_on_the_first = [post_login(first) for _ in range(3)]
        on_the_second = post_login(second)

    assert used_on_the_first == [400, 400, 400]  # an empty body: counted, then refused
    assert on_the_second == 429


@pytest.mark.django_db
def test_an_unreachable_redis_falls_back_to_this_process_counts(api, settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login": "2/min"}

    statuses = [api.post(LOGIN, {}, format="json").status_code for _ in range(4)]

    assert statuses == [400, 400, 429, 429]
    assert "throttle counts store redis://127.0.0.1:1/0 failed" in caplog.text
