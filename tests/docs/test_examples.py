"""The examples of the docs, run as they are shown: the shell lines go to bash, with only the
address of the server (a live test server) and the placeholders filled in."""

import json
import re
import shlex
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.services import upsert_user
from config.env import parse_auth_providers
from subscriptions.models import Subscription
from subscriptions.webhook import parse_event
from tests.docs.markdown import ROOT, block_holding, commands
from tests.docs.servers import served_by_make, stop_serving

EXAMPLE_SERVER = "http://127.0.0.1:8000"


def bash(script: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-euc", script], capture_output=True, text=True, timeout=60, **kwargs
    )


@pytest.mark.django_db(transaction=True)
def test_the_readme_token_example_answers_me(live_server):
    issue, curl = commands(block_holding("README.md", "issue_tokens").text)
    out = StringIO()

    call_command(*shlex.split(issue.split("manage.py", 1)[1]), stdout=out)
    pair = json.loads(out.getvalue())
    result = bash(curl.replace("<access>", pair["access"]).replace(EXAMPLE_SERVER, live_server.url))

    assert result.returncode == 0, result.stderr
    me = json.loads(result.stdout)
    assert (me["id"], me["provider"]) == (pair["user_id"], "google")


@pytest.mark.django_db(transaction=True)
def test_the_webhook_signing_example_is_accepted(live_server, settings):
    block = block_holding("docs/security.md", "openssl dgst")
    user = upsert_user(provider="google", provider_subject="payer", email="payer@example.com")
    secret = re.search(r"^SECRET=(\S+)$", block.text, re.M).group(1)
    # A secret the server takes with DEBUG off (shorter ones stop its start-up).
    assert len(secret) >= settings.MIN_WEBHOOK_SECRET_CHARS
    settings.SUBSCRIPTION_WEBHOOK_SECRETS = [secret]
    script = block.text.replace("<user UUID>", str(user.id))

    result = bash(script.replace(EXAMPLE_SERVER, live_server.url))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"status": "processed"}
    subscription = Subscription.objects.get(user=user)
    assert (subscription.provider_subscription_id, subscription.plan) == (
        "sub_9",
        "premium_monthly",
    )


def test_the_signing_pipeline_gives_the_documented_fixed_case():
    page = (ROOT / "docs/security.md").read_text()
    lines = commands(block_holding("docs/security.md", "openssl dgst").text)
    fixed = re.search(
        r"`t=(\d+)`.*?`user_id` `([0-9a-f-]{36})`, `v1` is\s+`([0-9a-f]{64})`", page, re.S
    )
    assert fixed, "docs/security.md states a fixed case"
    t, user_id, v1 = fixed.groups()
    secret, body = lines[0], lines[1].replace("<user UUID>", user_id)
    sign = next(line for line in lines if line.startswith("sig="))

    result = bash(f'{secret}\n{body}\nt={t}\n{sign}\necho "$sig"')

    assert result.stdout.strip() == v1


def test_the_production_environment_passes_the_deploy_check(tmp_path):
    block = block_holding("docs/operations.md", "check --deploy")
    example_database = "export DATABASE_URL=postgres://app:secret@db.internal:5432/journal"
    assert example_database in block.text
    # The database host is an example: the check runs with a SQLite file of its own instead.
    script = block.text.replace(
        example_database, f"unset DATABASE_URL; export SQLITE_PATH={tmp_path / 'db.sqlite3'}"
    )

    result = bash(script, cwd=ROOT, env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"})

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


def test_the_provider_configuration_shown_is_a_valid_auth_providers_value():
    block = block_holding("docs/security.md", "jwks_uri", language="json")

    providers = parse_auth_providers(json.loads(block.text))

    assert sorted(providers) == ["apple", "google"]
    assert providers["google"]["jwks_uri"] == "https://www.googleapis.com/oauth2/v3/certs"


def test_the_webhook_event_shown_is_one_the_webhook_accepts():
    block = block_holding("docs/security.md", "subscription.updated", language="json")
    body = block.text.replace("<user UUID>", "5a1bbe8f-b912-430d-b581-7eb5bca49d3e")

    event = parse_event(body.encode())

    assert (event.subscription_id, event.status) == ("sub_9", "active")


@pytest.mark.sqlite_only  # SQLite files of its own, whatever the leg
def test_the_readme_token_command_as_written_is_accepted_by_make_run_and_make_serve(tmp_path):
    # A newcomer's checkout: nothing exported, a .env that make writes; only the files are
    # put in this test's directory (the .env too, through ENV_FILE).
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ENV_FILE": str(tmp_path / ".env"),
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "DATABASE_TARGET_PATH": str(tmp_path / "database_target"),
        "MAINTENANCE_FLAG_PATH": str(tmp_path / "maintenance.flag"),
        "GUNICORN_PID_FILE": str(tmp_path / "gunicorn.pid"),
        "CACHE_DIR": str(tmp_path / "cache"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "GUNICORN_WORKERS": "1",
    }
    issue, curl = commands(block_holding("README.md", "issue_tokens").text)
    servers = []
    try:
        for target in ("run", "serve"):
            servers.append(served_by_make(target, env, tmp_path / f"make-{target}.log"))
        issued = bash(issue, cwd=ROOT, env=env)
        assert issued.returncode == 0, issued.stderr
        pair = json.loads(issued.stdout)

        for _, base_url in servers:
            answered = bash(
                curl.replace("<access>", pair["access"]).replace(EXAMPLE_SERVER, base_url)
            )
            assert answered.returncode == 0, answered.stderr
            assert json.loads(answered.stdout)["id"] == pair["user_id"]
    finally:
        for process, _ in servers:
            stop_serving(process)
    assert "SECRET_KEY=" in (tmp_path / ".env").read_text()
