from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from subscriptions.models import Subscription
from tests.processes import run_manage


def run_command(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def run_cron(tmp_path, *args):
    """``manage.py`` in a fresh process on an empty SQLite file, as cron would run it."""
    return run_manage(*args, env={"SECRET_KEY": "x" * 50, "SQLITE_PATH": str(tmp_path / "db")})


@pytest.mark.django_db
def test_expire_subscriptions_reports_how_many_expired(user, other_user, make_subscription):
    past = timezone.now() - timedelta(hours=1)
    make_subscription(user, period_end=past)
    make_subscription(other_user, status="grace", period_end=past)
    make_subscription(user, status="canceled", period_end=past)

    output = run_command("expire_subscriptions")

    assert output == "expired 2 subscription(s)\n"
    assert Subscription.objects.filter(status="expired").count() == 2


@pytest.mark.django_db
def test_expire_subscriptions_with_nothing_due_reports_zero(user, make_subscription):
    make_subscription(user)

    assert run_command("expire_subscriptions") == "expired 0 subscription(s)\n"


def test_expire_subscriptions_exits_zero_from_the_shell(tmp_path):
    assert run_cron(tmp_path, "migrate", "--verbosity", "0").returncode == 0

    result = run_cron(tmp_path, "expire_subscriptions")

    assert result.returncode == 0
    assert result.stdout == "expired 0 subscription(s)\n"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["expire_subscriptions", "--now"], "unrecognized arguments"),
        (["expire_subscriptions"], "database error: no such table"),
    ],
)
def test_expire_subscriptions_fails_with_one_line_and_no_traceback(tmp_path, args, reason):
    result = run_cron(tmp_path, *args)  # the database file is not migrated

    assert result.returncode != 0
    assert reason in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if "error" in line.lower()]) == 1
