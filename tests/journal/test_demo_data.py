"""``manage.py fill_demo_data``: realistic data in bulk, every derived row right."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from accounts.models import User
from journal.demo import DEMO_PROVIDER, fill_demo_data
from journal.invariants import data_invariants
from journal.models import JournalEntry, JournalUsage
from subscriptions.models import Subscription, SubscriptionEvent
from tokens.models import RefreshToken, Session

pytestmark = pytest.mark.django_db


def test_demo_data_holds_what_was_asked_with_every_usage_row_right():
    filled = fill_demo_data(users=40, entries=500, sessions_per_user=2, subscribed_share=0.5)

    assert User.objects.filter(provider=DEMO_PROVIDER).count() == 40
    assert JournalEntry.objects.count() == filled.entries == 500
    assert Session.objects.count() == RefreshToken.objects.count() == filled.sessions == 80
    assert Subscription.objects.count() == filled.subscriptions
    # Each with the event that activated it, linked to its user.
    assert SubscriptionEvent.objects.filter(user__isnull=False).count() == filled.subscriptions
    assert 0 < filled.subscriptions < 40
    totals = JournalEntry.objects.aggregate(bytes=Sum("size_bytes"))
    assert filled.bytes == totals["bytes"]
    per_user = {
        row["user_id"]: (row["bytes"], row["n"])
        for row in JournalEntry.objects.values("user_id").annotate(
            bytes=Sum("size_bytes"), n=Count("id")
        )
    }
    usage = {row.user_id: (row.bytes_used, row.entries) for row in JournalUsage.objects.all()}
    assert usage == per_user
    # What verify_copy checks after a copy holds too (sizes, usage rows).
    assert [description for description, rows in data_invariants() if rows.exists()] == []
    # A few users write much more than most.
    most = max(count for _, count in per_user.values())
    assert most > 2 * (500 / 40)


def test_a_second_fill_adds_users_beside_the_first():
    fill_demo_data(users=5, entries=10)
    fill_demo_data(users=5, entries=10, seed=2)

    subjects = set(User.objects.values_list("provider_subject", flat=True))
    assert len(subjects) == 10
    assert JournalEntry.objects.count() == 20


def test_the_command_prints_what_it_added():
    out = StringIO()

    call_command("fill_demo_data", "--users", "3", "--entries", "7", stdout=out, stderr=StringIO())

    assert out.getvalue().startswith("added 3 users, 7 entries (")
    assert JournalEntry.objects.count() == 7


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--users", "-1"], "must be 0 or more"),
        (["--users", "0", "--entries", "5"], "--entries needs --users"),
        (["--subscribed", "2"], "--subscribed is a share"),
    ],
)
def test_bad_sizes_are_refused_in_one_line_and_nothing_is_added(args, reason):
    with pytest.raises(CommandError, match=reason):
        call_command("fill_demo_data", *args, stdout=StringIO(), stderr=StringIO())

    assert not User.objects.exists()
