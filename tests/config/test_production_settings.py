import secrets

import pytest
from rest_framework.test import APIClient

from config.database import replica_configs
from tests.processes import run_manage


def manage(tmp_path, *args, **env):
    return run_manage(*args, env={"SQLITE_PATH": str(tmp_path / "db.sqlite3"), **env})


def setting_lines(result) -> list[str]:
    """``diffsettings`` output, one ``NAME = value`` per line (without its ``###`` marks)."""
    assert result.returncode == 0, result.stderr
    return [line.removesuffix("  ###") for line in result.stdout.splitlines()]


def production_env(**more):
    return {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), **more}


def deploy_check(tmp_path, **env):
    """``check --deploy`` failing on warnings, as a deployment pipeline would run it."""
    return manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production_env(**env))


def test_deploy_check_is_clean_with_https_on_behind_a_proxy_and_a_real_secret_key(tmp_path):
    result = deploy_check(tmp_path, HTTPS="1", NUM_PROXIES="1")

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    assert "WARNINGS" not in result.stderr


def test_deploy_check_warns_that_https_without_num_proxies_puts_clients_in_one_bucket(tmp_path):
    result = deploy_check(tmp_path, HTTPS="1")

    assert result.returncode != 0
    assert "ops.W001" in result.stderr
    assert "NUM_PROXIES=0" in result.stderr
    # Only a deploy check: a plain check on the same settings is clean.
    assert manage(tmp_path, "check", **production_env(HTTPS="1")).returncode == 0


def test_deploy_check_warns_when_https_is_off(tmp_path):
    result = manage(tmp_path, "check", "--deploy", **production_env())

    assert "SECURE_SSL_REDIRECT" in result.stderr
    assert "SECURE_HSTS_SECONDS" in result.stderr


def test_https_turns_on_redirect_hsts_proxy_header_and_secure_cookies(tmp_path):
    lines = setting_lines(manage(tmp_path, "diffsettings", **production_env(HTTPS="1")))

    for line in [
        "SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')",
        "SECURE_SSL_REDIRECT = True",
        "SECURE_HSTS_SECONDS = 31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS = True",
        "SESSION_COOKIE_SECURE = True",
        "CSRF_COOKIE_SECURE = True",
    ]:
        assert line in lines, line


def test_throttle_rates_come_from_the_environment(tmp_path):
    result = manage(
        tmp_path,
        "diffsettings",
        **production_env(
            THROTTLE_LOGIN_RATE="5/minute", THROTTLE_WEBHOOK_RATE="100/s", THROTTLE_WRITE_RATE="9/h"
        ),
    )

    assert (
        "THROTTLE_RATES = {'login': '5/minute', 'refresh': '60/min', 'webhook': '100/s', "
        "'write': '9/h'}" in setting_lines(result)
    )


def test_webhook_secrets_are_a_comma_separated_list_for_rotation(tmp_path):
    result = manage(
        tmp_path,
        "diffsettings",
        **production_env(
            SUBSCRIPTION_WEBHOOK_SECRET=" whsec_new_0123456789 , whsec_old_0123456789 ,"
        ),
    )

    assert (
        "SUBSCRIPTION_WEBHOOK_SECRETS = ['whsec_new_0123456789', 'whsec_old_0123456789']"
        in setting_lines(result)
    )


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"THROTTLE_LOGIN_RATE": "lots"}, "THROTTLE_LOGIN_RATE must be a rate like 20/min"),
        ({"THROTTLE_WEBHOOK_RATE": "10/fortnight"}, "THROTTLE_WEBHOOK_RATE must be a rate"),
        ({"ADMIN_URL": "/admin"}, "ADMIN_URL must be path segments each ending in /"),
        ({"ADMIN_URL": "staff/../x/"}, "ADMIN_URL must be path segments"),
        ({"HTTPS": "sometimes"}, "HTTPS must be 0 or 1"),
        ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL must be DEBUG, INFO"),
        ({"DATABASE_REPLICA_URLS": "postgres://r/journal"}, "DATABASE_REPLICA_URLS needs"),
        (
            {"DATABASE_URL": "postgres://p/journal", "DATABASE_REPLICA_URLS": "mysql://r/db"},
            "DATABASE_REPLICA_URLS (replica 1) must be a postgres:// or postgresql:// URL",
        ),
    ],
)
def test_bad_operations_settings_stop_start_up_with_one_line(tmp_path, env, reason):
    result = manage(tmp_path, "check", **production_env(**env))

    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert reason in result.stderr


def test_each_replica_url_is_an_alias_with_the_pool_and_timeout_mirroring_default():
    replicas = replica_configs(
        ["postgres://ro@replica-a:5432/journal", "postgres://ro@replica-b/journal"],
        pool_max=4,
        statement_timeout_ms=2500,
    )

    assert list(replicas) == ["replica_1", "replica_2"]
    assert [cfg["HOST"] for cfg in replicas.values()] == ["replica-a", "replica-b"]
    for cfg in replicas.values():
        assert cfg["OPTIONS"]["pool"]["max_size"] == 4
        assert cfg["OPTIONS"]["pool"]["timeout"] == 2
        assert cfg["OPTIONS"]["options"] == "-c statement_timeout=2500"
        assert cfg["TEST"] == {"MIRROR": "default"}


def test_every_configured_database_goes_through_the_metrics_wrappers(tmp_path):
    result = manage(
        tmp_path,
        "diffsettings",
        **production_env(
            DATABASE_URL="postgres://app@db/journal",
            DATABASE_REPLICA_URLS="postgres://ro@r/journal",
        ),
    )

    lines = setting_lines(result)
    databases = next(line for line in lines if line.startswith("DATABASES = "))
    assert databases.count("'ENGINE': 'django_prometheus.db.backends.postgresql'") == 2
    assert "'replica_1'" in databases
    assert "DATABASE_REPLICAS = ['replica_1']" in lines


@pytest.fixture
def https(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    return APIClient()  # made after the settings change: its middleware reads them


def test_with_https_plain_http_is_redirected(https):
    response = https.get("/api/v1/me")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/api/v1/me"


def test_with_https_a_request_through_the_proxy_gets_hsts(https, db):
    response = https.get("/api/v1/me", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 401
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_with_https_probes_and_the_scraper_may_use_plain_http(https, db, path):
    assert https.get(path).status_code == 200


def test_static_files_are_served_by_the_app(settings):
    settings.WHITENOISE_USE_FINDERS = True  # tests run without collectstatic
    client = APIClient()

    admin_css = client.get("/static/admin/css/base.css")
    swagger = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")

    assert admin_css.status_code == 200
    assert admin_css["Content-Type"].startswith("text/css")
    assert swagger.status_code == 200
