import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from tests.processes import run_manage
from tokens import services
from tokens.models import RevokedJti, Session


def run_command(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_issue_tokens_creates_the_user_and_prints_a_working_pair():
    output = json.loads(
        run_command("issue_tokens", "--provider", "google", "--subject", "s1", "--email", "a@b.co")
    )

    user = User.objects.get(provider="google", provider_subject="s1")
    assert output["user_id"] == str(user.pk)
    assert user.email == "a@b.co"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {output['access']}")
    assert client.get("/api/v1/me").json()["id"] == str(user.pk)
    refreshed = client.post("/api/v1/auth/refresh", {"refresh": output["refresh"]}, format="json")
    assert refreshed.status_code == 200


@pytest.mark.django_db
def test_issue_tokens_finds_an_existing_user(user):
    output = json.loads(
        run_command("issue_tokens", "--provider", "google", "--subject", "alice-sub")
    )

    assert output["user_id"] == str(user.pk)
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_purge_tokens_reports_what_it_deleted(user):
    expired = services.start_session(user=user)
    Session.objects.filter(pk=expired.session.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    services.start_session(user=user)
    services.revoke_jti(jti="j", user=user, expires_at=timezone.now() - timedelta(seconds=1))

    output = run_command("purge_tokens", "--batch-size", "1")

    assert (
        output.strip()
        == "purged 1 expired session(s), 0 rotated refresh token(s) and 1 revoked JTI(s)"
    )
    assert Session.objects.count() == 1
    assert not RevokedJti.objects.exists()


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["issue_tokens", "--provider", "", "--subject", "s"], "--provider must be"),
        (["issue_tokens", "--provider", "google", "--subject", " "], "--subject must be"),
        (["issue_tokens", "--provider", "g", "--subject", "s", "--email", "nope"], "not an email"),
        (["issue_tokens", "--subject", "s"], "--provider"),
        # Bytes that are not UTF-8 reach Python as lone surrogates.
        (["issue_tokens", "--provider", "google", "--subject", "s\udcff"], "--subject holds"),
        (
            ["issue_tokens", "--provider", "g", "--subject", "s", "--email", "\udcff@x.io"],
            "--email",
        ),
        (["purge_tokens", "--batch-size", "0"], "--batch-size must be at least 1"),
        (["purge_tokens", "--batch-size", "many"], "invalid int value"),
    ],
)
def test_commands_refuse_bad_input_with_one_line_and_no_traceback(tmp_path, args, reason):
    env = {"SECRET_KEY": "x" * 50, "SQLITE_PATH": str(tmp_path / "db.sqlite3")}
    result = run_manage(*args, env=env)

    assert result.returncode != 0
    assert reason in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if "error" in line.lower()]) == 1
